// One client transport: DNS, TCP on libuv, optional TLS (implicit or
// upgraded by STARTTLS). Bytes in, bytes out; no IMAP knowledge.
#pragma once

#include <set>

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "model/account.h"
#include "net/tls.h"

namespace imap {

// Turns on keepalive with ka's idle/interval/count and sets TCP_USER_TIMEOUT
// on a connected socket (see KeepaliveOptions). ka.idleMs == 0 leaves the
// socket alone. Returns 0 or the first failing call's negative errno; the
// options that could be set stay set.
int applyKeepalive(uv_tcp_t* tcp, const KeepaliveOptions& ka);

class Connection;

// Shared by every connection of one loop: the loop runs callbacks one at a
// time, so a single read buffer serves them all.
struct LoopShared {
  uv_loop_t* loop = nullptr;
  std::vector<char> readBuf = std::vector<char>(64 * 1024);

  // Clients setting up a session (TLS handshake, login, ...; counted by
  // ImapClient), and setups ended since free heap pages were last returned
  // to the system.
  size_t settingUp = 0;
  size_t setupsSinceTrim = 0;
  // One setup ended (settled, failed or abandoned). After the last one of a
  // burst, returns free heap pages to the system when `mayTrim`.
  void setupEnded(bool mayTrim);

  // Backpressure: while paused, a connection that receives data stops
  // reading (the server's data waits in the kernel and TCP window) instead
  // of turning it into events nobody can take yet.
  void pauseReads() { readsPaused = true; }
  void resumeReads();
  bool readsPaused = false;
  std::set<Connection*> stopped;  // each removes itself when it goes
};

class Connection {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // TCP is up and, for implicit TLS, the handshake finished.
    virtual void onConnected() = 0;
    // A STARTTLS upgrade finished its handshake.
    virtual void onTlsUpgraded() = 0;
    virtual void onData(const char* data, size_t len) = 0;
    // The transport is gone. code: CONNECT_FAILED, TLS_FAILED,
    // CONNECTION_LOST. Not called after close().
    virtual void onClosed(const std::string& code, const std::string& message) = 0;
  };

  Connection(LoopShared* shared, Handler* handler);
  // Handlers must not delete the Connection from inside a callback; they
  // call close() and drop it later (the handles free themselves).
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void connect(const std::string& host, uint16_t port, std::shared_ptr<TlsContext> implicitTls,
               const KeepaliveOptions& keepalive);
  // Starts a client handshake over the open TCP stream. Every byte read from
  // now on is TLS; plaintext already delivered stays the caller's problem.
  void startTls(std::shared_ptr<TlsContext> ctx);
  void write(const std::string& data);
  // Idempotent; no handler callback follows.
  void close();
  bool closed() const { return dead_; }
  bool secure() const { return tls_ && tls_->established(); }

 private:
  struct Tcp;
  static void onResolved(uv_getaddrinfo_t* req, int status, struct addrinfo* res);
  static void onTcpConnected(uv_connect_t* req, int status);
  static void onAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);

  void tryNextAddress();
  void tcpUp();
  void handleCipher(const char* data, size_t len);
  void flushCipher();
  void writeRaw(std::string data);
  void fail(const std::string& code, const std::string& message);
  void deliver(const char* data, size_t len);
  friend struct LoopShared;
  void resumeReading();

  LoopShared* shared_;
  Handler* handler_;
  std::string host_;
  uint16_t port_ = 0;
  std::shared_ptr<TlsContext> tlsCtx_;
  bool implicit_ = false;
  KeepaliveOptions keepalive_;
  std::unique_ptr<TlsSession> tls_;
  uv_tcp_t* tcp_ = nullptr;
  uv_getaddrinfo_t* resolve_ = nullptr;
  std::vector<sockaddr_storage> addrs_;
  size_t nextAddr_ = 0;
  std::string lastConnectError_;
  bool dead_ = false;
  std::string deferred_;  // read while reads were paused, delivered on resume
};

}  // namespace imap
