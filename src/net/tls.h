// TLS client over a custom BIO backed by the session's own strings (not
// OpenSSL memory BIOs, see in_/out_). The socket layer moves ciphertext in
// and out; this class never touches a file descriptor, so it works on any
// event loop and is testable in memory.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "model/tls_options.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace imap {

// Drains the thread's OpenSSL error queue into "reason; reason" (for
// error messages; tls_context.cpp and tls.cpp both report through it).
std::string drainTlsErrors();

// A shared client context, built once per distinct TlsOptions: create()
// returns the live context for equal options when there is one.
class TlsContext {
 public:
  // Returns nullptr and sets err on failure (e.g. unparseable CA PEM).
  static std::shared_ptr<TlsContext> create(const TlsOptions& opts, std::string& err);
  ~TlsContext();
  SSL_CTX* get() const { return ctx_; }
  bool verify() const { return verify_; }
  // TlsOptions::servername; when non-empty sessions use it instead of host.
  const std::string& servername() const { return servername_; }

 private:
  TlsContext() = default;
  SSL_CTX* ctx_ = nullptr;
  bool verify_ = true;
  std::string servername_;
  std::string cacheKey_;
};

// Usage contract for the connection layer:
//  - After EVERY call to handshake(), readPlain(), writePlain() or close(),
//    send takeCipher() if hasCipher(). handshake() returning Ok has usually
//    just queued the client's Finished; Error may have queued an alert.
//  - When handshake() returns Ok, call readPlain() at once: the bytes that
//    completed the handshake may already carry application data (e.g. the
//    IMAP greeting) and no further network input may ever arrive for it.
//  - Errors are sticky: once any call returns Error, every later call does
//    too and error() keeps the first reason.

class TlsSession {
 public:
  enum class Status { Ok, WantMore, Error };

  // `host` is what hostname verification checks (IP addresses are checked as
  // IPs); SNI is sent only for names, not for IP literals.
  TlsSession(std::shared_ptr<TlsContext> ctx, const std::string& host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Drives the handshake. Ok once finished (and on later calls), WantMore
  // while it needs more ciphertext from the peer, Error on failure.
  Status handshake();
  bool established() const { return established_; }

  // Ciphertext received from the network.
  void feedCipher(const char* data, size_t len);
  // Ciphertext to send to the network (drained by this call).
  std::string takeCipher();
  bool hasCipher() const;

  // Appends all plaintext decryptable from the ciphertext fed so far. Ok
  // means no error (out may be unchanged; WantMore is never returned). Error
  // when the peer sent garbage or a fatal alert. A clean close_notify from
  // the peer returns Ok (with any data that preceded it) and sets
  // peerClosed(); the connection should then be treated as at EOF. Called
  // before established(), it first drives the handshake and returns its
  // WantMore/Error status.
  Status readPlain(std::string& out);
  // Encrypts application bytes; output is collected by takeCipher(). All of
  // data is consumed. Error before established() or after close().
  Status writePlain(std::string_view data);
  // Queues our close_notify (collect it with takeCipher()). Optional; the
  // socket can be closed right after.
  void close();
  // The peer sent close_notify; no more plaintext will arrive.
  bool peerClosed() const { return peerClosed_; }

  // Human-readable reason for the first Error, without a "TLS ..." prefix
  // (e.g. "certificate verify failed: hostname mismatch", "wrong version
  // number"), including the verification result when that is what failed.
  const std::string& error() const { return error_; }
  // True when the failure was certificate/hostname verification.
  bool verifyFailed() const { return verifyFailed_; }

 private:
  void setError(const char* what);
  Status fail(const char* what);
  void trimBuffers();
  size_t inPending() const { return in_.size() - inPos_; }

  // The BIO that connects ssl_ to in_/out_ (one object for both directions).
  struct Io;

  std::shared_ptr<TlsContext> ctx_;
  SSL* ssl_ = nullptr;
  // Ciphertext is kept in plain strings rather than OpenSSL memory BIOs: a
  // mem BIO pair costs ~0.6 KiB of bookkeeping and keeps its buffers, while
  // these are empty (no heap) whenever the connection is idle.
  std::string in_;   // network -> ssl; bytes before inPos_ are consumed
  size_t inPos_ = 0;
  std::string out_;  // ssl -> network, drained by takeCipher()
  bool established_ = false;
  bool verifyFailed_ = false;
  bool peerClosed_ = false;
  bool closed_ = false;
  bool failed_ = false;
  std::string error_;
};

}  // namespace imap
