// TlsContext: trust stores, verification settings and the shared SSL_CTX
// cache. The per-connection state machine is tls.cpp.
#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstdio>
#include <mutex>
#include <unordered_map>

namespace imap {


std::string drainTlsErrors() {
  std::string out;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    if (!out.empty()) out += "; ";
    if (const char* r = ERR_reason_error_string(code)) {
      out += r;
    } else {
      char buf[256];
      ERR_error_string_n(code, buf, sizeof buf);
      out += buf;
    }
  }
  return out;
}

namespace {

// OpenSSL takes lengths as int.
constexpr size_t kMaxIo = INT_MAX;

int noPassword(char*, int, int, void*) { return 0; }

// Adds every certificate in pem to store; false with err on bad input.
bool loadCaPem(X509_STORE* store, const std::string& pem, std::string& err) {
  if (pem.size() > kMaxIo) {
    err = "ca PEM too large";
    return false;
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) {
    err = "out of memory reading ca";
    return false;
  }
  int count = 0;
  bool ok = true;
  for (;;) {
    X509* cert = PEM_read_bio_X509(bio, nullptr, noPassword, nullptr);
    if (!cert) {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE && count > 0) {
        ERR_clear_error();  // normal end of input
      } else if (count == 0 && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        err = "no certificates found in ca PEM";
        ok = false;
      } else {
        std::string why = drainTlsErrors();
        err = "invalid ca PEM (certificate " + std::to_string(count + 1) + "): " +
              (why.empty() ? std::string("parse error") : why);
        ok = false;
      }
      break;
    }
    int added = X509_STORE_add_cert(store, cert);
    X509_free(cert);
    if (added != 1) {
      err = "cannot add ca certificate: " + drainTlsErrors();
      ok = false;
      break;
    }
    ++count;
  }
  BIO_free(bio);
  return ok;
}

// The system trust store, parsed once per process (~750 KiB) and shared by
// every context, as Node does with its root store. X509_STORE is internally
// locked, so sharing across engine threads is safe.
X509_STORE* systemStore(std::string& err) {
  static std::mutex mu;
  static X509_STORE* store = nullptr;
  std::lock_guard<std::mutex> lock(mu);
  if (store) return store;
  X509_STORE* s = X509_STORE_new();
  if (!s || X509_STORE_set_default_paths(s) != 1) {
    err = "cannot load system trust store: " + drainTlsErrors();
    X509_STORE_free(s);
    return nullptr;
  }
  ERR_clear_error();
  store = s;  // kept for the process lifetime
  return store;
}

// Live contexts by options, so accounts with equal options share one SSL_CTX
// (~12 KiB each) as the header promises. Leaked to dodge exit-time ordering.
struct ContextCache {
  std::mutex mu;
  std::unordered_map<std::string, std::weak_ptr<TlsContext>> live;
};
ContextCache& contextCache() {
  static ContextCache* c = new ContextCache;
  return *c;
}

std::string cacheKey(const TlsOptions& o) {
  return std::string(o.rejectUnauthorized ? "v" : "n") + std::to_string(o.servername.size()) + ":" +
         o.servername + o.caPem;
}


}  // namespace

std::shared_ptr<TlsContext> TlsContext::create(const TlsOptions& opts, std::string& err) {
  std::string key = cacheKey(opts);
  ContextCache& cache = contextCache();
  std::lock_guard<std::mutex> lock(cache.mu);
  auto it = cache.live.find(key);
  if (it != cache.live.end()) {
    if (auto existing = it->second.lock()) return existing;
  }
  ERR_clear_error();
  std::shared_ptr<TlsContext> c(new TlsContext());
  c->verify_ = opts.rejectUnauthorized;
  c->servername_ = opts.servername;
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!c->ctx_) {
    err = "cannot create TLS context: " + drainTlsErrors();
    return nullptr;
  }
  SSL_CTX* ctx = c->ctx_;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // RELEASE_BUFFERS frees the ~34 KiB record buffers while a connection idles.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Renegotiation could make writePlain need input; IMAP servers don't need it.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

  if (!opts.caPem.empty()) {
    // Node semantics: `ca` replaces the default trust store.
    if (!loadCaPem(SSL_CTX_get_cert_store(ctx), opts.caPem, err)) return nullptr;
  } else if (c->verify_) {
    X509_STORE* store = systemStore(err);
    if (!store) return nullptr;
    SSL_CTX_set1_cert_store(ctx, store);
  }
  ERR_clear_error();
  SSL_CTX_set_verify(ctx, c->verify_ ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  c->cacheKey_ = std::move(key);  // only cached contexts touch the cache on destruction
  cache.live[c->cacheKey_] = c;
  return c;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
  if (cacheKey_.empty()) return;
  ContextCache& cache = contextCache();
  std::lock_guard<std::mutex> lock(cache.mu);
  auto it = cache.live.find(cacheKey_);
  // A racing create() may already have replaced our expired entry.
  if (it != cache.live.end() && it->second.expired()) cache.live.erase(it);
}

}  // namespace imap
