#include "net/tls.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>

namespace imap {

namespace {

constexpr size_t kIoChunk = 16384;
constexpr size_t kMaxIo = INT_MAX;

// SSL_free_buffers had a use-after-free (CVE-2024-4741) before these releases.
#if OPENSSL_VERSION_MAJOR > 3 || OPENSSL_VERSION_MINOR > 3 ||                     \
    (OPENSSL_VERSION_MINOR == 3 && OPENSSL_VERSION_PATCH >= 1) ||                 \
    (OPENSSL_VERSION_MINOR == 2 && OPENSSL_VERSION_PATCH >= 2) ||                 \
    (OPENSSL_VERSION_MINOR == 1 && OPENSSL_VERSION_PATCH >= 6) ||                 \
    (OPENSSL_VERSION_MINOR == 0 && OPENSSL_VERSION_PATCH >= 14)
#define IMAP_TLS_FREE_BUFFERS 1
#endif

bool isIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// "[::1]" -> "::1", "fe80::1%eth0" -> "fe80::1", "host." -> "host".
std::string normalizeHost(std::string h) {
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto pct = h.find('%');
  if (pct != std::string::npos && isIpLiteral(h.substr(0, pct))) h.resize(pct);
  if (h.size() > 1 && h.back() == '.' && !isIpLiteral(h)) h.pop_back();
  return h;
}

}  // namespace

// A source/sink BIO over the session's own strings. Reads take from in_ and
// ask to be retried when it is empty (more ciphertext may still arrive: never
// EOF); writes append to out_ and always consume everything.
struct TlsSession::Io {
  static TlsSession* self(BIO* b) { return static_cast<TlsSession*>(BIO_get_data(b)); }

  static int write(BIO* b, const char* data, size_t len, size_t* written) {
    BIO_clear_retry_flags(b);
    TlsSession* s = self(b);
    if (!s) return 0;
    try {
      s->out_.append(data, len);
    } catch (const std::bad_alloc&) {
      return 0;  // no exception may cross OpenSSL's C frames
    }
    *written = len;
    return 1;
  }

  static int read(BIO* b, char* buf, size_t len, size_t* got) {
    BIO_clear_retry_flags(b);
    TlsSession* s = self(b);
    size_t avail = s ? s->inPending() : 0;
    if (avail == 0) {
      BIO_set_retry_read(b);
      *got = 0;
      return 0;
    }
    size_t n = len < avail ? len : avail;
    std::memcpy(buf, s->in_.data() + s->inPos_, n);
    s->inPos_ += n;
    *got = n;
    return 1;
  }

  static long ctrl(BIO* b, int cmd, long, void*) {
    TlsSession* s = self(b);
    switch (cmd) {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_PENDING:
        return s ? static_cast<long>(s->inPending()) : 0;
      case BIO_CTRL_WPENDING:
        return s ? static_cast<long>(s->out_.size()) : 0;
      default:
        return 0;  // includes BIO_CTRL_EOF: never at EOF
    }
  }

  static int create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
  }

  static int destroy(BIO* b) {
    BIO_set_data(b, nullptr);
    return 1;
  }

  // Built once per process and kept for its lifetime.
  static const BIO_METHOD* method() {
    static const BIO_METHOD* m = [] {
      int index = BIO_get_new_index();
      BIO_METHOD* bm = index < 0 ? nullptr : BIO_meth_new(index | BIO_TYPE_SOURCE_SINK, "imap-push tls io");
      if (!bm || BIO_meth_set_write_ex(bm, write) != 1 || BIO_meth_set_read_ex(bm, read) != 1 ||
          BIO_meth_set_ctrl(bm, ctrl) != 1 || BIO_meth_set_create(bm, create) != 1 ||
          BIO_meth_set_destroy(bm, destroy) != 1) {
        BIO_meth_free(bm);
        return static_cast<BIO_METHOD*>(nullptr);
      }
      return bm;
    }();
    return m;
  }
};

TlsSession::TlsSession(std::shared_ptr<TlsContext> ctx, const std::string& host)
    : ctx_(std::move(ctx)) {
  if (!ctx_ || !ctx_->get()) {
    failed_ = true;
    error_ = "no TLS context";
    return;
  }
  ERR_clear_error();
  ssl_ = SSL_new(ctx_->get());
  const BIO_METHOD* method = Io::method();
  BIO* io = method ? BIO_new(method) : nullptr;
  if (!ssl_ || !io) {
    BIO_free(io);
    fail("TLS setup failed");
    return;
  }
  BIO_set_data(io, this);
  SSL_set_bio(ssl_, io, io);  // one reference, owned by ssl_ from here
  SSL_set_connect_state(ssl_);

  const std::string& raw = ctx_->servername().empty() ? host : ctx_->servername();
  if (raw.find('\0') != std::string::npos) {
    failed_ = true;
    error_ = "invalid host name";
    return;
  }
  std::string name = normalizeHost(raw);
  bool ip = isIpLiteral(name);
  // SNI regardless of verification: virtual hosts need it to pick a cert.
  if (!ip && !name.empty() && SSL_set_tlsext_host_name(ssl_, name.c_str()) != 1) {
    fail("cannot set TLS server name");
    return;
  }
  if (!ctx_->verify()) return;
  if (name.empty()) {
    // An empty name would silently disable the hostname check.
    failed_ = true;
    error_ = "no host name to verify the certificate against";
    return;
  }
  if (ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str()) != 1) {
      fail("cannot set IP address to verify");
      return;
    }
  } else {
    SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl_, name.c_str()) != 1) {
      fail("cannot set host name to verify");
      return;
    }
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

// error_ is the bare reason; callers add their own context. `what` is the
// fallback when OpenSSL queued nothing more specific.
void TlsSession::setError(const char* what) {
  std::string reasons = drainTlsErrors();
  long vr = (ssl_ && ctx_->verify()) ? SSL_get_verify_result(ssl_) : X509_V_OK;
  std::string msg;
  if (vr != X509_V_OK) {
    verifyFailed_ = true;
    msg = std::string("certificate verify failed: ") + X509_verify_cert_error_string(vr);
  } else {
    msg = reasons.empty() ? std::string(what) : reasons;
  }
  if (error_.empty()) error_ = std::move(msg);
}

TlsSession::Status TlsSession::fail(const char* what) {
  setError(what);
  failed_ = true;
  return Status::Error;
}

TlsSession::Status TlsSession::handshake() {
  if (failed_) return Status::Error;
  if (established_) return Status::Ok;
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    established_ = true;
    trimBuffers();
    return Status::Ok;
  }
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      return Status::WantMore;
    case SSL_ERROR_ZERO_RETURN:
      peerClosed_ = true;
      return fail("closed by peer during handshake");
    default:
      return fail("handshake failed");
  }
}

void TlsSession::feedCipher(const char* data, size_t len) {
  if (failed_ || !ssl_ || len == 0) return;
  if (inPos_ == in_.size()) {
    in_.clear();
    inPos_ = 0;
  }
  try {
    in_.append(data, len);
  } catch (const std::bad_alloc&) {
    fail("out of memory buffering input");
  }
}

std::string TlsSession::takeCipher() {
  std::string s;
  s.swap(out_);  // hands over the buffer: no copy, nothing kept
  trimBuffers();
  return s;
}

bool TlsSession::hasCipher() const { return !out_.empty(); }

TlsSession::Status TlsSession::readPlain(std::string& out) {
  if (failed_) return Status::Error;
  if (!established_) {
    Status s = handshake();
    if (s != Status::Ok) return s;
  }
  if (peerClosed_) return Status::Ok;
  ERR_clear_error();
  char buf[kIoChunk];
  for (;;) {
    // Probing with nothing to read would re-allocate the ~16 KiB record
    // buffer that SSL_MODE_RELEASE_BUFFERS just freed, pinning it while idle.
    if (!SSL_has_pending(ssl_) && inPending() == 0) break;
    size_t n = 0;
    int r = SSL_read_ex(ssl_, buf, sizeof buf, &n);
    if (r == 1) {
      out.append(buf, n);
      continue;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) break;
    if (e == SSL_ERROR_ZERO_RETURN) {
      peerClosed_ = true;
      break;
    }
    return fail("read failed");
  }
  trimBuffers();
  return Status::Ok;
}

TlsSession::Status TlsSession::writePlain(std::string_view data) {
  if (failed_) return Status::Error;
  if (!established_ || closed_) {
    failed_ = true;
    if (error_.empty())
      error_ = established_ ? "write after close" : "write before handshake completed";
    return Status::Error;
  }
  ERR_clear_error();
  while (!data.empty()) {
    size_t n = 0;
    if (SSL_write_ex(ssl_, data.data(), data.size(), &n) != 1) return fail("write failed");
    data.remove_prefix(n);
  }
  return Status::Ok;
}

void TlsSession::close() {
  if (failed_ || closed_ || !established_) return;
  closed_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // queues close_notify; we never wait for the peer's
  ERR_clear_error();
}

void TlsSession::trimBuffers() {
  // Consumed ciphertext goes; an incomplete record waiting for the rest is
  // kept in a buffer of its own size, not in the one a large read grew.
  if (inPos_ == in_.size()) {
    std::string().swap(in_);
    inPos_ = 0;
  } else if (inPos_ > 0) {
    std::string(in_, inPos_).swap(in_);
    inPos_ = 0;
  }
  if (!established_ || !ssl_) return;
#ifdef IMAP_TLS_FREE_BUFFERS
  // RELEASE_BUFFERS misses one case: post-handshake messages (TLS 1.3
  // session tickets) allocate a ~16 KiB write buffer that stays until our
  // next write. This frees it; OpenSSL refuses while data is in flight.
  SSL_free_buffers(ssl_);
#endif
}

}  // namespace imap
