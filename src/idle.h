// One watched folder: a dedicated IMAP connection that logs in, selects the
// folder and sits in IDLE (or polls with NOOP), turning untagged responses
// into events. It survives drops: folder state (UIDVALIDITY, UIDNEXT) lives
// across reconnects so mail that arrived meanwhile is reported once.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "account.h"
#include "backoff.h"
#include "connection.h"
#include "events.h"
#include "parser.h"

namespace imap {

class IdleSession;

class SessionOwner {
 public:
  virtual ~SessionOwner() = default;
  virtual LoopShared* shared() = 0;
  virtual void emit(Event&& e) = 0;
  virtual void statusChanged(const IdleSession& s) = 0;
  // First time the folder is watched (IDLE or polling).
  virtual void sessionReady(IdleSession& s) = 0;
  // The first connection failed before the folder was ever watched.
  virtual void sessionFirstFailure(IdleSession& s, const std::string& code, const std::string& message) = 0;
  // close() finished. The owner may destroy the session, but not from
  // inside this call.
  virtual void sessionClosed(IdleSession& s) = 0;
};

// What survives reconnects.
struct FolderState {
  uint32_t uidValidity = 0;
  uint32_t uidNext = 0;  // watermark: every UID below it has been reported
  uint64_t highestModseq = 0;
  uint32_t exists = 0;
};

class IdleSession : private Connection::Handler {
 public:
  IdleSession(SessionOwner* owner, const AccountConfig* cfg, std::shared_ptr<TlsContext> tls, std::string folder);
  ~IdleSession() override;

  void start();
  // Logs out (bounded by timeouts.logoutMs), then calls owner->sessionClosed.
  void close();

  const std::string& folder() const { return folder_; }
  const AccountConfig& config() const { return *cfg_; }
  ConnState state() const { return state_; }
  FolderStatus snapshot() const;

 private:
  enum class Timer { None, Connect, Command, Refresh, Done, Poll, Reconnect, Logout };
  struct Command {
    std::string tag;
    std::string verb;
    std::vector<std::string> pendingParts;  // sent one per '+' (sync literals)
    std::function<void(const Response&)> onDone;
    std::function<void(const Response&)> onContinue;
  };

  // Connection::Handler
  void onConnected() override;
  void onTlsUpgraded() override;
  void onData(const char* data, size_t len) override;
  void onClosed(const std::string& code, const std::string& message) override;

  void connect();
  void handle(const Response& r);
  void handleUntagged(const Response& r);
  void handleGreeting(const Response& r);
  void applyCode(const ResponseCode& code);
  void setCapabilities(const std::vector<Value>& caps);
  bool hasCap(const std::string& cap) const;

  void send(std::vector<std::string> parts, std::function<void(const Response&)> onDone,
            std::function<void(const Response&)> onContinue = nullptr);
  void send(const std::string& text, std::function<void(const Response&)> onDone) {
    send(std::vector<std::string>{text}, std::move(onDone));
  }
  std::vector<std::string> astringArgs(const std::string& verb, const std::vector<std::string>& args) const;

  void afterGreeting();
  void requestCapabilities(std::function<void()> then);
  void startTls();
  void authenticate();
  void authenticateSasl(const std::string& mech, const std::string& initial);
  void afterAuth();
  void select();
  void afterSelect();
  void proceed();
  void fetchNew();
  void fetchFlagged();
  void startIdle();
  void watching();  // the folder is now watched (IDLE or polling)
  void sendDone();
  void poll();
  void logout();

  void onExists(uint32_t n);
  void onExpunge(uint32_t seq);
  void onVanished(const std::vector<Value>& args);
  void onFetch(uint32_t seq, const Value& items);

  void setState(ConnState s, const std::string& code = {}, const std::string& message = {});
  void fail(const std::string& code, const std::string& message);
  void scheduleReconnect(uint64_t delayMs);
  void finishClose();
  void arm(Timer purpose, uint64_t ms);
  void disarm();
  static void onTimer(uv_timer_t* t);
  void fireTimer();

  SessionOwner* owner_;
  const AccountConfig* cfg_;
  std::shared_ptr<TlsContext> tls_;
  std::string folder_;
  std::string wireFolder_;  // modified UTF-7

  std::unique_ptr<Connection> conn_;
  Parser parser_;
  uv_timer_t* timer_ = nullptr;
  Timer timerPurpose_ = Timer::None;
  Backoff backoff_;

  ConnState state_ = ConnState::Disconnected;
  std::string lastErrorCode_, lastErrorMessage_;
  bool everReady_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool greeted_ = false;
  bool tlsSwitching_ = false;  // STARTTLS accepted: ignore the rest of this read
  std::set<std::string> caps_;
  bool capsFresh_ = false;  // caps_ came in after the last login step
  uint32_t tagCounter_ = 0;
  std::optional<Command> cmd_;

  FolderState fs_;
  struct Selected {
    uint32_t exists = 0, uidValidity = 0, uidNext = 0;
    uint64_t highestModseq = 0;
  };
  std::optional<Selected> selecting_;
  bool selected_ = false;
  bool qresync_ = false;
  bool polling_ = false;

  bool newPending_ = false;
  std::set<uint32_t> flagSeqs_;     // flag changes seen without a UID
  uint32_t fetchFloor_ = 0;         // watermark during a new-message fetch
  uint32_t fetchMax_ = 0;
  bool fetchingNew_ = false;
  bool resolvingFlags_ = false;
  bool probing_ = false;  // learning UIDNEXT from the highest UID
  uint32_t serverUidNext_ = 0;  // UIDNEXT at SELECT when catching up

  bool idling_ = false;     // IDLE command in flight
  bool idleActive_ = false; // '+' received
  bool doneSent_ = false;
  bool doneWanted_ = false;
  bool refreshing_ = false;
};

}  // namespace imap
