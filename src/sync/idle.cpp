#include "sync/idle.h"

#include <algorithm>

#include "imap/fetch.h"
#include "core/mutf7.h"
#include "sync/deliveries.h"

namespace imap {

IdleSession::IdleSession(SessionOwner* owner, AccountConfigPtr cfg, std::shared_ptr<TlsContext> tls,
                         FolderRuntime* rt)
    : ImapClient(owner, cfg, std::move(tls)),
      owner_(owner),
      rt_(rt),
      wireFolder_(utf8ToMutf7(rt->folder)),
      backoff_(cfg->reconnect) {}

FolderStatus IdleSession::snapshot() const {
  FolderStatus s;
  s.accountId = cfg_->id;
  s.folder = rt_->folder;
  s.state = stateName(state());
  if (state() == ConnState::Idle) s.mode = polling_ ? "poll" : "idle";
  s.uidValidity = rt_->fs.uidValidity;
  s.uidNext = rt_->fs.uidNext;
  s.highestModseq = rt_->fs.highestModseq;
  s.exists = rt_->fs.exists;
  s.lastErrorCode = lastErrorCode();
  s.lastErrorMessage = lastErrorMessage();
  return s;
}


// ---- lifecycle ----

void IdleSession::onStateChange(ConnState prev, ConnState next, const std::string& code, const std::string& message) {
  if (next == ConnState::Connecting) {
    selecting_.reset();
    flagSeqs_.clear();
    qresync_ = polling_ = newPending_ = false;
    fetchingNew_ = resolvingFlags_ = probing_ = false;
    idling_ = idleActive_ = doneSent_ = doneWanted_ = refreshing_ = false;
    serverUidNext_ = 0;
    existsSeenAt_.reset();
    fetchSeenAt_.reset();
  }
  Event e = imap::folderEvent(Event::Type::ConnectionStatus, *rt_);
  e.previous = prev;
  e.state = next;
  e.errorCode = code;
  e.errorMessage = message;
  if (retryInMs_ >= 0) {
    e.retryInMs = retryInMs_;
    e.attempt = backoff_.attempt();
  }
  owner_->statusChanged(*this);
  owner_->emit(std::move(e));
}

void IdleSession::onFailure(const std::string& code, const std::string& message) {
  idling_ = idleActive_ = false;
  bool config = code == "AUTH_FAILED" || code == "TLS_FAILED" || code == "INSECURE_AUTH" || code == "SELECT_FAILED";
  // The delay is drawn before the status change so the event can say when
  // the next attempt comes (an app shows it, the logger records it).
  bool retry = everReady_ && !(code == "AUTH_FAILED" && cfg_->stopOnAuthFailure);
  uint64_t delay = 0;
  if (retry) {
    delay = backoff_.next();
    if (code == "AUTH_FAILED") delay = std::max(delay, cfg_->authFailureDelayMs);
  }
  retryInMs_ = retry ? static_cast<int64_t>(delay) : -1;
  setState(config ? ConnState::Error : ConnState::Disconnected, code, message);
  retryInMs_ = -1;
  if (!everReady_) {
    owner_->sessionFirstFailure(*this, code, message);
    return;
  }
  if (retry) arm(kReconnect, delay);
}

void IdleSession::close() {
  logout([this] {
    if (closed_) return;
    closed_ = true;
    setState(ConnState::Disconnected);
    owner_->sessionClosed(*this);
  });
}

void IdleSession::onLeaving() {
  if (idling_) {
    if (idleActive_) sendDone();
    else doneWanted_ = true;
  }
}

void IdleSession::onTimer(int purpose) {
  switch (purpose) {
    case kDone:
      fail("TIMEOUT", "server did not end IDLE within " + std::to_string(cfg_->idle.doneTimeoutMs) + " ms");
      return;
    case kRefresh:
      armIdleCheck();
      return;
    case kPoll:
      poll();
      return;
    case kReconnect:
      connect();
      return;
  }
}

// ---- mailbox ----

void IdleSession::onAuthenticated() {
  if (hasCap("QRESYNC") && hasCap("ENABLE")) {
    send("ENABLE QRESYNC", [this](const Response&) { select(); });
  } else {
    select();
  }
}

void IdleSession::onCode(const ResponseCode& code) {
  if (code.args.empty()) return;
  if (!selecting_) {
    // A modseq beyond what we saw means changes the server did not spell
    // out to us (e.g. flags of a message it announced in the same breath).
    if (code.name != "HIGHESTMODSEQ" || !code.args[0].isNumber() || code.args[0].num <= rt_->fs.highestModseq) return;
    // New mail raises it as well (Dovecot sends it right after EXISTS): a sync
    // for that would find nothing, so the new-message fetch decides first.
    if ((newPending_ || fetchingNew_) && modseqAware()) {
      modseqPending_ = std::max(modseqPending_, code.args[0].num);
      return;
    }
    owner_->folderNeedsSync(*this);
    return;
  }
  selecting_->noteCode(code.name, code.args);
}

void IdleSession::select() {
  selecting_ = SelectedMailbox{};
  auto parts = astringArgs("SELECT", {wireFolder_});
  if (hasCap("CONDSTORE") && !qresync_) parts.back() += " (CONDSTORE)";
  send(std::move(parts), [this](const Response& r) {
    if (r.status != "OK") {
      selecting_.reset();
      fail("SELECT_FAILED", "cannot select " + rt_->folder + ": " + describe(r));
      return;
    }
    afterSelect();
  });
}

void IdleSession::afterSelect() {
  SelectedMailbox sel = *selecting_;
  selecting_.reset();
  FolderState& fs = rt_->fs;
  bool known = fs.uidValidity != 0;
  if (known && sel.uidValidity != fs.uidValidity) {
    Event e = imap::folderEvent(Event::Type::FolderReset, *rt_);
    e.uidValidity = sel.uidValidity;
    owner_->emit(std::move(e));
    known = false;
    rt_->initialDone = false;
  }
  fs.uidValidity = sel.uidValidity;
  fs.exists = exists_ = sel.exists;
  rt_->dirty = true;
  modseqPending_ = 0;  // a new connection: what the old one waited for, the sync below covers
  newModseqs_.clear();
  if (!known) {
    // A first sight (or a reset folder) sets the baseline: existing mail is
    // not new mail, old changes are not news.
    fs.uidNext = sel.uidNext;
    fs.highestModseq = sel.highestModseq;
  } else {
    // HIGHESTMODSEQ stays where the last sync left it: changes made while we
    // were away are below the server's value and still to be reported.
    if (sel.uidNext == 0 ? sel.exists > 0 : sel.uidNext > fs.uidNext) {
      newPending_ = true;  // mail arrived while we were away
      serverUidNext_ = sel.uidNext;
    }
    owner_->folderNeedsSync(*this);  // flags and deletions while away
  }
  owner_->statusChanged(*this);
  if (fs.uidNext == 0) {
    // No UIDNEXT from the server: learn the highest UID instead.
    if (sel.exists == 0) {
      fs.uidNext = 1;
    } else {
      probing_ = true;
      send("UID FETCH * (UID)", [this](const Response& r) {
        probing_ = false;
        if (r.status != "OK") {
          fail("PROTOCOL_ERROR", "cannot learn UIDNEXT: " + describe(r));
          return;
        }
        if (rt_->fs.uidNext == 0) rt_->fs.uidNext = 1;
        proceed();
      });
      return;
    }
  }
  proceed();
}

void IdleSession::proceed() {
  if (busy() || !connected() || leaving()) return;
  if (newPending_) {
    fetchNew();
    return;
  }
  if (!flagSeqs_.empty()) {
    fetchFlagged();
    return;
  }
  if (hasCap("IDLE")) {
    polling_ = false;
    startIdle();
  } else {
    polling_ = true;
    watching();
    releaseScratch();
    settled();
    arm(kPoll, cfg_->idle.pollMs);
  }
}

void IdleSession::watching() {
  if (state() == ConnState::Idle) return;
  setState(ConnState::Idle);
  backoff_.reset();
  if (!everReady_) {
    everReady_ = true;
    owner_->sessionReady(*this);
  }
}

void IdleSession::fetchNew() {
  newPending_ = false;
  fetchingNew_ = true;
  fetchSeenAt_ = existsSeenAt_;
  existsSeenAt_.reset();
  uint32_t from = rt_->fs.uidNext ? rt_->fs.uidNext : 1;
  const char* items = modseqAware() ? kNewMessageItemsModseq : kNewMessageItems;
  send("UID FETCH " + std::to_string(from) + ":* " + items, [this](const Response& r) {
    fetchingNew_ = false;
    fetchSeenAt_.reset();
    if (r.status != "OK") {
      fail("PROTOCOL_ERROR", "fetching new messages failed: " + describe(r));
      return;
    }
    // Every UID below the server's UIDNEXT at SELECT time was covered, even
    // if those messages are gone by now.
    if (serverUidNext_ > rt_->fs.uidNext) rt_->fs.uidNext = serverUidNext_;
    serverUidNext_ = 0;
    settleModseq();
    owner_->statusChanged(*this);
    proceed();
  });
}

void IdleSession::fetchFlagged() {
  // A sequence set is written like a UID set: consecutive numbers as a range.
  std::string set = UidSet::fromUids(std::vector<uint32_t>(flagSeqs_.begin(), flagSeqs_.end())).toString();
  flagSeqs_.clear();
  resolvingFlags_ = true;
  send("FETCH " + set + " (UID FLAGS)", [this](const Response& r) {
    resolvingFlags_ = false;
    if (r.status != "OK") {
      fail("PROTOCOL_ERROR", "fetching changed flags failed: " + describe(r));
      return;
    }
    proceed();
  });
}

void IdleSession::startIdle() {
  idling_ = true;
  idleActive_ = doneSent_ = false;
  send(std::vector<std::string>{"IDLE"},
       [this](const Response& r) {
         bool wasRefresh = refreshing_;
         idling_ = idleActive_ = doneSent_ = doneWanted_ = refreshing_ = false;
         if (r.status != "OK") {
           fail("PROTOCOL_ERROR", "IDLE failed: " + describe(r));
           return;
         }
         if (wasRefresh) owner_->emit(imap::folderEvent(Event::Type::IdleRefreshed, *rt_));
         proceed();
       },
       [this](const Response&) {
         idleActive_ = true;
         if (!leaving()) watching();
         if (doneWanted_ || newPending_ || !flagSeqs_.empty() || leaving()) {
           sendDone();
           return;
         }
         // Typically nothing arrives for minutes now: give back what the
         // SELECT and fetch responses made the parser grow.
         releaseScratch();
         settled();
         idleSince_ = uv_now(host_->shared()->loop);
         armIdleCheck();
       });
}

// The server owes us nothing while idling, so ending IDLE is the read
// deadline: its DONE must be answered within doneTimeoutMs. Due at the RFC
// 2177 refresh or after livenessMs without a byte from the server, whichever
// is first. Reads do not re-arm the timer (a timer-heap update per read);
// a timer that fires and finds traffic since then re-arms for the rest.
void IdleSession::armIdleCheck() {
  const IdleOptions& o = cfg_->idle;
  uint64_t due = idleSince_ + o.refreshMs;
  if (o.livenessMs != 0) due = std::min(due, lastReceivedAt() + o.livenessMs);
  uint64_t now = uv_now(host_->shared()->loop);
  if (due > now) {
    arm(kRefresh, due - now);
    return;
  }
  refreshing_ = true;
  sendDone();
}

void IdleSession::sendDone() {
  if (!idling_ || doneSent_) return;
  if (!idleActive_) {
    doneWanted_ = true;
    return;
  }
  doneSent_ = true;
  if (timerPurpose() != kLogoutTimer) arm(kDone, cfg_->idle.doneTimeoutMs);
  write("DONE\r\n");
}

void IdleSession::poll() {
  send("NOOP", [this](const Response& r) {
    if (r.status != "OK") {
      fail("PROTOCOL_ERROR", "NOOP failed: " + describe(r));
      return;
    }
    proceed();
  });
}

// ---- mailbox updates ----

}  // namespace imap
