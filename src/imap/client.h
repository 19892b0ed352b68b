// One IMAP connection up to the authenticated state: transport, greeting,
// capabilities, STARTTLS, authentication, and a one-at-a-time command
// channel. IDLE watchers and pooled command connections build on it.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/account.h"
#include "net/connection.h"
#include "model/events.h"
#include "core/parser.h"

namespace imap {

class ClientHost {
 public:
  virtual ~ClientHost() = default;
  virtual LoopShared* shared() = 0;
  // An OAuth2 access token for an account with a token provider. `force`
  // bypasses the cache (the server rejected the cached one). `done` runs on
  // the loop thread, possibly later; an empty token comes with an error.
  virtual void accessToken(const AccountConfig& cfg, bool force,
                           std::function<void(const std::string& token, const std::string& error)> done) = 0;
};

class ImapClient : private Connection::Handler {
 public:
  ImapClient(ClientHost* host, AccountConfigPtr cfg, std::shared_ptr<TlsContext> tls);
  ~ImapClient() override;
  ImapClient(const ImapClient&) = delete;
  ImapClient& operator=(const ImapClient&) = delete;

  const AccountConfig& config() const { return *cfg_; }
  ConnState state() const { return state_; }
  // `cap` in upper case, e.g. "IDLE", "AUTH=PLAIN".
  bool hasCap(std::string_view cap) const;
  bool busy() const { return cmd_.has_value(); }
  bool connected() const { return conn_ && !conn_->closed(); }
  bool leaving() const { return leaving_; }
  const std::string& lastErrorCode() const { return lastErrorCode_; }
  const std::string& lastErrorMessage() const { return lastErrorMessage_; }

  using Done = std::function<void(const Response&)>;
  // Sends a command; parts after the first follow the server's '+' (sync
  // literals). `onDone` gets the tagged response.
  void send(std::vector<std::string> parts, Done onDone, Done onContinue = nullptr);
  void send(const std::string& text, Done onDone) { send(std::vector<std::string>{text}, std::move(onDone)); }
  // Verb followed by astring arguments, quoted or as literals as needed.
  std::vector<std::string> astringArgs(const std::string& verb, const std::vector<std::string>& args) const;
  // A literal need not wait for the server's '+' (RFC 7888).
  bool nonSyncLiterals() const { return hasCap("LITERAL+") || hasCap("LITERAL-"); }
  void write(const std::string& raw) { if (connected()) conn_->write(raw); }

 protected:
  enum Timer : int { kNoTimer = 0, kConnectTimer, kCommandTimer, kLogoutTimer, kFirstCustomTimer = 100 };

  void connect();
  // LOGOUT (bounded by timeouts.logoutMs), then `done` exactly once, on
  // every path: answered, failed, timed out or never connected.
  void logout(std::function<void()> done);
  void fail(const std::string& code, const std::string& message);
  void setState(ConnState s, const std::string& code = {}, const std::string& message = {});
  void arm(int purpose, uint64_t ms);
  void disarm();
  int timerPurpose() const { return timerPurpose_; }
  // Loop time (uv_now) of the last bytes from the server, e.g. an untagged
  // "* OK Still here" that no handler sees.
  uint64_t lastReceivedAt() const { return lastReceivedAt_; }
  // Steady-clock time the bytes now being handled were read: uv_now is the
  // loop pass's cached millisecond, too coarse to time a push.
  std::chrono::steady_clock::time_point receivedSteady() const { return receivedSteady_; }
  // Frees the parser's buffers and scratch space, which otherwise keep the
  // capacity the largest response needed. For a connection about to sit
  // idle; a no-op while a response is partially received.
  void releaseScratch();
  // The session is set up and about to sit mostly idle: its setup no longer
  // counts as part of a burst (see LoopShared::setupEnded). Called by the
  // base class on failure and logout, and after login unless
  // settlesAfterLogin() is false.
  void settled();
  virtual bool settlesAfterLogin() const { return true; }

  virtual void onAuthenticated() = 0;
  virtual void onFailure(const std::string& code, const std::string& message) = 0;
  virtual void onUntagged(const Response&) {}
  virtual void onCode(const ResponseCode&) {}
  virtual void onStateChange(ConnState, ConnState, const std::string&, const std::string&) {}
  virtual void onTimer(int) {}
  // Logout was requested while a command is in flight (e.g. end IDLE).
  virtual void onLeaving() {}

  ClientHost* host_;
  AccountConfigPtr cfg_;

 private:
  struct Command {
    std::string tag;
    std::string verb;
    std::vector<std::string> pendingParts;
    Done onDone;
    Done onContinue;
  };

  void onConnected() override;
  void onTlsUpgraded() override;
  void onData(const char* data, size_t len) override;
  void onClosed(const std::string& code, const std::string& message) override;

  void handle(const Response& r);
  void handleGreeting(const Response& r);
  void handleUntagged(const Response& r);
  void setCapabilities(const std::vector<Value>& caps);
  void requestCapabilities(std::function<void()> then);
  void startTls();
  void authenticate();
  void authenticateWith(const std::string& token);
  void authenticateSasl(const std::string& mech, const std::string& initial);
  void authenticated();
  void sendLogout();
  void finishLogout();
  static void timerCallback(uv_timer_t* t);
  void fireTimer();

  std::shared_ptr<TlsContext> tls_;
  LoopShared* shared_;
  std::unique_ptr<Connection> conn_;
  Parser parser_;
  uv_timer_t* timer_ = nullptr;
  int timerPurpose_ = kNoTimer;
  uint64_t lastReceivedAt_ = 0;
  std::chrono::steady_clock::time_point receivedSteady_;
  std::shared_ptr<char> alive_ = std::make_shared<char>(0);  // guards late token callbacks
  uint64_t generation_ = 0;                                   // one per connect()

  ConnState state_ = ConnState::Disconnected;
  std::string lastErrorCode_, lastErrorMessage_;
  bool greeted_ = false;
  bool tlsSwitching_ = false;
  bool tokenRetried_ = false;
  bool settingUp_ = false;  // counted in shared_->settingUp
  // Upper-cased capabilities separated by single spaces ("IMAP4REV1 IDLE"),
  // in one exactly sized buffer: a std::set cost ~80 bytes per capability,
  // and servers such as Dovecot announce 40 of them.
  std::string caps_;
  bool capsFresh_ = false;
  uint32_t tagCounter_ = 0;
  std::optional<Command> cmd_;

  bool leaving_ = false;
  std::function<void()> logoutDone_;
};

}  // namespace imap
