#include "net/connection.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace imap {

namespace {

// Requests and handles outlive the Connection that started them whenever a
// close races a callback; their `data` is cleared so the callback only frees.
struct WriteReq {
  uv_write_t req;
  std::string data;
};

void freeHandle(uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); }

// Setups that must end before a quiet moment is worth a trim, and after
// which one is done even if the loop is never quiet.
constexpr size_t kTrimAfterSetups = 32;
constexpr size_t kTrimAtLeastEvery = 1024;

// Returns free heap pages to the system (~1-2 ms with 10,000 connections).
// A TLS handshake allocates ~60 KiB of short-lived buffers; when many run at
// once (an engine starting with thousands of accounts, or reconnecting them
// all after a network outage) the long-lived per-connection allocations made
// meanwhile end up scattered among the freed buffers, and glibc only gives
// back the top of a heap, so several KiB per connection would stay resident
// for good.
void releaseFreeHeapPages() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

bool parseIpLiteral(const std::string& host, uint16_t port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (uv_ip4_addr(host.c_str(), port, v4) == 0) return true;
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  return uv_ip6_addr(host.c_str(), port, v6) == 0;
}

// The kernel takes whole seconds; rounding up never makes a probe early.
int wholeSeconds(uint64_t ms) {
  uint64_t s = (ms + 999) / 1000;
  return static_cast<int>(std::min<uint64_t>(std::max<uint64_t>(s, 1), INT_MAX));
}

int setIntOption(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : -errno;
}

}  // namespace

int applyKeepalive(uv_tcp_t* tcp, const KeepaliveOptions& ka) {
  if (ka.idleMs == 0) return 0;
  int rc = uv_tcp_keepalive(tcp, 1, static_cast<unsigned>(wholeSeconds(ka.idleMs)));
  if (rc != 0) return rc;
  uv_os_fd_t fd;
  if ((rc = uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &fd)) != 0) return rc;
  int first = 0;
  auto note = [&first](int r) {
    if (first == 0) first = r;
  };
  // uv_tcp_keepalive sets only the idle time (and, in some libuv versions,
  // its own interval and count): the rest decides how soon a silent peer
  // counts as gone.
#ifdef TCP_KEEPINTVL
  note(setIntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL, wholeSeconds(ka.intervalMs)));
#endif
#ifdef TCP_KEEPCNT
  note(setIntOption(fd, IPPROTO_TCP, TCP_KEEPCNT, static_cast<int>(std::min<uint32_t>(std::max<uint32_t>(ka.count, 1), 127))));
#endif
#ifdef TCP_USER_TIMEOUT
  // Keepalive probes are not sent while written data is unacknowledged
  // (e.g. a DONE into a blackhole): without this the kernel retransmits for
  // ~15 minutes. Same deadline as the probes: Linux also lets it replace
  // the probe count, so a longer one would slow the keepalive path too.
  uint64_t deadline = (static_cast<uint64_t>(wholeSeconds(ka.idleMs)) +
                       static_cast<uint64_t>(wholeSeconds(ka.intervalMs)) * std::max<uint32_t>(ka.count, 1)) * 1000;
  note(setIntOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, static_cast<int>(std::min<uint64_t>(deadline, INT_MAX))));
#endif
  return first;
}

void LoopShared::setupEnded(bool mayTrim) {
  if (settingUp > 0) --settingUp;
  ++setupsSinceTrim;
  if (!mayTrim) return;
  if (setupsSinceTrim < kTrimAfterSetups || (settingUp > 0 && setupsSinceTrim < kTrimAtLeastEvery)) return;
  setupsSinceTrim = 0;
  releaseFreeHeapPages();
}

void LoopShared::resumeReads() {
  readsPaused = false;
  // Taken from the set one at a time, never from a copy: a delivery may
  // close (and take off the set) another stopped connection, or pause again.
  while (!readsPaused && !stopped.empty()) {
    Connection* c = *stopped.begin();
    stopped.erase(stopped.begin());
    c->resumeReading();
  }
}

Connection::Connection(LoopShared* shared, Handler* handler) : shared_(shared), handler_(handler) {}

Connection::~Connection() { close(); }

void Connection::resumeReading() {
  if (dead_ || !tcp_) return;
  std::string data;
  data.swap(deferred_);
  uv_read_start(reinterpret_cast<uv_stream_t*>(tcp_), onAlloc, onRead);
  deliver(data.data(), data.size());
}

void Connection::close() {
  shared_->stopped.erase(this);
  dead_ = true;
  if (resolve_) {
    resolve_->data = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(resolve_));
    resolve_ = nullptr;
  }
  if (tcp_) {
    tcp_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(tcp_), freeHandle);
    tcp_ = nullptr;
  }
}

void Connection::connect(const std::string& host, uint16_t port, std::shared_ptr<TlsContext> implicitTls,
                         const KeepaliveOptions& keepalive) {
  host_ = host;
  keepalive_ = keepalive;
  port_ = port;
  implicit_ = static_cast<bool>(implicitTls);
  tlsCtx_ = std::move(implicitTls);

  sockaddr_storage ip;
  if (parseIpLiteral(host, port, ip)) {
    addrs_.push_back(ip);
    tryNextAddress();
    return;
  }
  resolve_ = new uv_getaddrinfo_t;
  resolve_->data = this;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  std::string service = std::to_string(port);
  int rc = uv_getaddrinfo(shared_->loop, resolve_, onResolved, host.c_str(), service.c_str(), &hints);
  if (rc != 0) {
    delete resolve_;
    resolve_ = nullptr;
    fail("CONNECT_FAILED", std::string("cannot resolve ") + host + ": " + uv_strerror(rc));
  }
}

void Connection::onResolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* self = static_cast<Connection*>(req->data);
  delete req;
  if (!self) {
    if (res) uv_freeaddrinfo(res);
    return;
  }
  self->resolve_ = nullptr;
  if (status != 0) {
    if (res) uv_freeaddrinfo(res);
    self->fail("CONNECT_FAILED", std::string("cannot resolve ") + self->host_ + ": " + uv_strerror(status));
    return;
  }
  for (addrinfo* a = res; a; a = a->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, a->ai_addr, a->ai_addrlen);
    self->addrs_.push_back(ss);
  }
  uv_freeaddrinfo(res);
  self->tryNextAddress();
}

void Connection::tryNextAddress() {
  if (tcp_) {
    tcp_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(tcp_), freeHandle);
    tcp_ = nullptr;
  }
  if (nextAddr_ >= addrs_.size()) {
    fail("CONNECT_FAILED", "cannot connect to " + host_ + ":" + std::to_string(port_) +
                               (lastConnectError_.empty() ? "" : ": " + lastConnectError_));
    return;
  }
  const sockaddr_storage& addr = addrs_[nextAddr_++];
  tcp_ = new uv_tcp_t;
  uv_tcp_init(shared_->loop, tcp_);
  tcp_->data = this;
  uv_tcp_nodelay(tcp_, 1);
  auto* req = new uv_connect_t;
  int rc = uv_tcp_connect(req, tcp_, reinterpret_cast<const sockaddr*>(&addr), onTcpConnected);
  if (rc != 0) {
    delete req;
    lastConnectError_ = uv_strerror(rc);
    tryNextAddress();
  }
}

void Connection::onTcpConnected(uv_connect_t* req, int status) {
  auto* self = static_cast<Connection*>(req->handle->data);
  delete req;
  if (!self) return;
  if (status != 0) {
    self->lastConnectError_ = uv_strerror(status);
    self->tryNextAddress();
    return;
  }
  self->addrs_.clear();
  self->addrs_.shrink_to_fit();
  self->tcpUp();
}

void Connection::tcpUp() {
  // A platform without some of the options still gets the others, and the
  // IMAP-level checks (command, DONE and liveness timers) remain.
  applyKeepalive(tcp_, keepalive_);
  uv_read_start(reinterpret_cast<uv_stream_t*>(tcp_), onAlloc, onRead);
  if (implicit_) {
    startTls(tlsCtx_);
    return;
  }
  handler_->onConnected();
}

void Connection::startTls(std::shared_ptr<TlsContext> ctx) {
  tlsCtx_ = std::move(ctx);
  tls_ = std::make_unique<TlsSession>(tlsCtx_, host_);
  if (tls_->handshake() == TlsSession::Status::Error) {
    fail("TLS_FAILED", "TLS handshake with " + host_ + " failed: " + tls_->error());
    return;
  }
  flushCipher();
}

void Connection::onAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(h->data);
  if (!self) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  *buf = uv_buf_init(self->shared_->readBuf.data(), static_cast<unsigned>(self->shared_->readBuf.size()));
}

void Connection::onRead(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(s->data);
  if (!self || n == 0) return;
  if (n < 0) {
    self->fail("CONNECTION_LOST", n == UV_EOF ? "connection closed by server"
                                              : std::string("connection lost: ") + uv_strerror(static_cast<int>(n)));
    return;
  }
  if (self->shared_->readsPaused) {
    // One read's worth (the shared 64 KiB buffer) is kept, then no more.
    self->deferred_.append(buf->base, static_cast<size_t>(n));
    uv_read_stop(s);
    self->shared_->stopped.insert(self);
    return;
  }
  self->deliver(buf->base, static_cast<size_t>(n));
}

void Connection::deliver(const char* data, size_t len) {
  if (len == 0) return;
  if (tls_) handleCipher(data, len);
  else handler_->onData(data, len);
}

void Connection::handleCipher(const char* data, size_t len) {
  tls_->feedCipher(data, len);
  if (!tls_->established()) {
    auto st = tls_->handshake();
    flushCipher();
    if (dead_) return;
    if (st == TlsSession::Status::Error) {
      fail("TLS_FAILED", "TLS handshake with " + host_ + " failed: " + tls_->error());
      return;
    }
    if (st == TlsSession::Status::WantMore) return;
    if (implicit_) {
      handler_->onConnected();
    } else {
      handler_->onTlsUpgraded();
    }
    if (dead_) return;
  }
  std::string plain;
  auto st = tls_->readPlain(plain);
  flushCipher();
  if (!plain.empty()) handler_->onData(plain.data(), plain.size());
  if (dead_) return;
  if (st == TlsSession::Status::Error) {
    fail("CONNECTION_LOST", "TLS connection ended: " + tls_->error());
  }
}

void Connection::flushCipher() {
  if (tls_ && tls_->hasCipher()) writeRaw(tls_->takeCipher());
}

void Connection::write(const std::string& data) {
  if (dead_ || !tcp_) return;
  if (tls_) {
    if (tls_->writePlain(data) == TlsSession::Status::Error) {
      fail("CONNECTION_LOST", "TLS write failed: " + tls_->error());
      return;
    }
    flushCipher();
    return;
  }
  writeRaw(data);
}

void Connection::writeRaw(std::string data) {
  if (!tcp_ || data.empty()) return;
  auto* w = new WriteReq;
  w->data = std::move(data);
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(tcp_), &buf, 1, [](uv_write_t* req, int status) {
    auto* wr = reinterpret_cast<WriteReq*>(req);
    auto* self = static_cast<Connection*>(req->handle->data);
    delete wr;
    if (self && status < 0 && status != UV_ECANCELED) {
      self->fail("CONNECTION_LOST", std::string("write failed: ") + uv_strerror(status));
    }
  });
  if (rc != 0) {
    delete w;
    fail("CONNECTION_LOST", std::string("write failed: ") + uv_strerror(rc));
  }
}

void Connection::fail(const std::string& code, const std::string& message) {
  if (dead_) return;
  close();
  handler_->onClosed(code, message);
}

}  // namespace imap
