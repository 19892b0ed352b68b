// One watched folder: a dedicated connection that selects the folder and
// sits in IDLE (or polls with NOOP), turning untagged responses into events.
// It survives drops: the folder's state lives in a FolderRuntime owned by
// the engine, so mail that arrived meanwhile is reported once.
#pragma once

#include <set>
#include <string>

#include "core/backoff.h"
#include "imap/client.h"
#include "sync/folder.h"

namespace imap {

class IdleSession;

class SessionOwner : public ClientHost {
 public:
  virtual void emit(Event&& e) = 0;
  virtual void statusChanged(const IdleSession& s) = 0;
  // First time the folder is watched (IDLE or polling).
  virtual void sessionReady(IdleSession& s) = 0;
  // The first connection failed before the folder was ever watched.
  virtual void sessionFirstFailure(IdleSession& s, const std::string& code, const std::string& message) = 0;
  // close() finished. The owner may destroy the session, but not from
  // inside this call.
  virtual void sessionClosed(IdleSession& s) = 0;
  // Something changed that a sync should reconcile (a reconnect, an
  // expunge without a UID, ...).
  virtual void folderNeedsSync(IdleSession&) {}
};

class IdleSession : public ImapClient {
 public:
  IdleSession(SessionOwner* owner, AccountConfigPtr cfg, std::shared_ptr<TlsContext> tls, FolderRuntime* rt);

  void start() { connect(); }
  // Logs out (bounded by timeouts.logoutMs), then calls owner->sessionClosed.
  void close();

  const std::string& folder() const { return rt_->folder; }
  FolderRuntime& runtime() { return *rt_; }
  FolderStatus snapshot() const;

 private:
  enum IdleTimer : int { kRefresh = kFirstCustomTimer, kDone, kPoll, kReconnect };

  void onAuthenticated() override;
  void onFailure(const std::string& code, const std::string& message) override;
  void onUntagged(const Response& r) override;
  void onCode(const ResponseCode& c) override;
  void onStateChange(ConnState prev, ConnState next, const std::string& code, const std::string& message) override;
  void onTimer(int purpose) override;
  void onLeaving() override;
  // Settled once watching (SELECT and the first fetches are still setup).
  bool settlesAfterLogin() const override { return false; }

  void select();
  void afterSelect();
  void proceed();
  void watching();
  void fetchNew();
  void fetchFlagged();
  void startIdle();
  void armIdleCheck();
  void sendDone();
  void poll();

  void onExists(uint32_t n);
  void onExpunge(uint32_t seq);
  void onVanished(const std::vector<Value>& args);
  void onFetch(uint32_t seq, const Value& items);
  void reportFlags(uint32_t seq, const struct FetchItems& f);
  bool modseqAware() const { return qresync_ || hasCap("CONDSTORE"); }
  void settleModseq();

  SessionOwner* owner_;
  FolderRuntime* rt_;
  std::string wireFolder_;  // modified UTF-7
  Backoff backoff_;
  bool everReady_ = false;
  int64_t retryInMs_ = -1;  // the reconnect being announced by the status change in progress
  bool closed_ = false;

  std::optional<SelectedMailbox> selecting_;
  bool qresync_ = false;
  bool polling_ = false;

  uint32_t exists_ = 0;  // this connection's message count
  bool newPending_ = false;
  // When the EXISTS behind newPending_ was read, if it came while watching in
  // IDLE, and the same for the new-message fetch in flight: its messages were
  // pushed, and their events carry it (catch-ups after a reconnect do not).
  std::optional<std::chrono::steady_clock::time_point> existsSeenAt_, fetchSeenAt_;
  std::set<uint32_t> flagSeqs_;     // flag changes seen without a UID
  bool fetchingNew_ = false;
  bool resolvingFlags_ = false;
  bool probing_ = false;            // learning UIDNEXT from the highest UID
  uint32_t serverUidNext_ = 0;      // UIDNEXT at SELECT when catching up
  // A HIGHESTMODSEQ that came with new mail, waiting for the new-message
  // fetch to say whether those messages account for all of it, and the
  // MODSEQs that fetch returned above the folder's HIGHESTMODSEQ.
  uint64_t modseqPending_ = 0;
  std::set<uint64_t> newModseqs_;

  bool idling_ = false;      // IDLE command in flight
  bool idleActive_ = false;  // '+' received
  bool doneSent_ = false;
  bool doneWanted_ = false;
  bool refreshing_ = false;  // DONE sent by the refresh or liveness check
  uint64_t idleSince_ = 0;   // loop time the current IDLE was accepted
};

}  // namespace imap
