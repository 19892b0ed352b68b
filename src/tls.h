// TLS client over OpenSSL memory BIOs. The socket layer moves ciphertext in
// and out; this class never touches a file descriptor, so it works on any
// event loop and is testable in memory.
#pragma once

#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace imap {

struct TlsOptions {
  // Extra trusted CA certificates in PEM. When empty the system default
  // trust store is used.
  std::string caPem;
  // Name sent as SNI and checked against the certificate. Defaults to host.
  std::string servername;
  // Certificate chain and hostname verification. On by default; turning it
  // off is an explicit opt-in for test servers.
  bool rejectUnauthorized = true;
};

// A shared client context, built once per distinct TlsOptions.
class TlsContext {
 public:
  // Returns nullptr and sets err on failure (e.g. unparseable CA PEM).
  static std::shared_ptr<TlsContext> create(const TlsOptions& opts, std::string& err);
  ~TlsContext();
  SSL_CTX* get() const { return ctx_; }
  bool verify() const { return verify_; }

 private:
  TlsContext() = default;
  SSL_CTX* ctx_ = nullptr;
  bool verify_ = true;
};

class TlsSession {
 public:
  enum class Status { Ok, WantMore, Error };

  // `host` is what hostname verification checks (IP addresses are checked as
  // IPs); SNI is sent only for names, not for IP literals.
  TlsSession(std::shared_ptr<TlsContext> ctx, const std::string& host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Drives the handshake. Ok once finished, WantMore while it needs more
  // ciphertext from the peer, Error on failure (see error()).
  Status handshake();
  bool established() const { return established_; }

  // Ciphertext received from the network.
  void feedCipher(const char* data, size_t len);
  // Ciphertext to send to the network (drained by this call).
  std::string takeCipher();
  bool hasCipher() const;

  // Decrypted application bytes, appended to out. Error when the peer sent
  // garbage or an alert.
  Status readPlain(std::string& out);
  // Encrypts application bytes; output is collected by takeCipher().
  Status writePlain(std::string_view data);

  // Human-readable reason for the last Error, including the certificate
  // verification result when that is what failed.
  const std::string& error() const { return error_; }
  // True when the failure was certificate/hostname verification.
  bool verifyFailed() const { return verifyFailed_; }

 private:
  void setError(const char* what);

  std::shared_ptr<TlsContext> ctx_;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   // network -> ssl
  BIO* out_ = nullptr;  // ssl -> network
  bool established_ = false;
  bool verifyFailed_ = false;
  std::string error_;
};

}  // namespace imap
