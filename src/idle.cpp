#include "idle.h"

#include <algorithm>

#include "auth.h"
#include "mutf7.h"

namespace imap {

namespace {

const char* const kNewMessageItems = "(UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE)";

uint32_t toU32(const Value& v) { return v.isNumber() && v.num <= 0xFFFFFFFFu ? static_cast<uint32_t>(v.num) : 0; }

std::vector<std::string> flagList(const Value& v) {
  std::vector<std::string> flags;
  if (!v.isList()) return flags;
  for (const auto& f : v.list)
    if (f.isText()) flags.push_back(f.str);
  return flags;
}

// Expands "41,43:116" into UIDs. Bounded, since a VANISHED (EARLIER) range
// from a hostile server could otherwise expand to billions of events.
std::vector<uint32_t> expandUidSet(const std::string& set, size_t limit) {
  std::vector<uint32_t> out;
  size_t pos = 0;
  while (pos < set.size() && out.size() < limit) {
    size_t comma = set.find(',', pos);
    std::string part = set.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? set.size() : comma + 1;
    size_t colon = part.find(':');
    try {
      uint64_t a = std::stoull(part.substr(0, colon));
      uint64_t b = colon == std::string::npos ? a : std::stoull(part.substr(colon + 1));
      if (a > b) std::swap(a, b);
      if (b > 0xFFFFFFFFu) continue;
      for (uint64_t u = a; u <= b && out.size() < limit; ++u) out.push_back(static_cast<uint32_t>(u));
    } catch (...) {
      continue;
    }
  }
  return out;
}

bool isAuthFailure(const Response& r) {
  return r.status == "NO" || r.status == "BAD";
}

std::string describe(const Response& r) {
  std::string s = r.status;
  if (r.code) s += " [" + r.code->raw + "]";
  if (!r.text.empty()) s += " " + r.text;
  return s;
}

}  // namespace

IdleSession::IdleSession(SessionOwner* owner, const AccountConfig* cfg, std::shared_ptr<TlsContext> tls,
                         std::string folder)
    : owner_(owner),
      cfg_(cfg),
      tls_(std::move(tls)),
      folder_(std::move(folder)),
      wireFolder_(utf8ToMutf7(folder_)),
      backoff_(cfg->reconnect) {
  timer_ = new uv_timer_t;
  uv_timer_init(owner_->shared()->loop, timer_);
  timer_->data = this;
}

IdleSession::~IdleSession() {
  conn_.reset();
  timer_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

void IdleSession::start() { connect(); }

FolderStatus IdleSession::snapshot() const {
  FolderStatus s;
  s.accountId = cfg_->id;
  s.folder = folder_;
  s.state = stateName(state_);
  if (state_ == ConnState::Idle) s.mode = polling_ ? "poll" : "idle";
  s.uidValidity = fs_.uidValidity;
  s.uidNext = fs_.uidNext;
  s.highestModseq = fs_.highestModseq;
  s.exists = fs_.exists;
  s.lastErrorCode = lastErrorCode_;
  s.lastErrorMessage = lastErrorMessage_;
  return s;
}

// ---- connection lifecycle ----

void IdleSession::connect() {
  conn_ = std::make_unique<Connection>(owner_->shared(), static_cast<Connection::Handler*>(this));
  parser_.reset();
  caps_.clear();
  cmd_.reset();
  greeted_ = tlsSwitching_ = selected_ = qresync_ = polling_ = false;
  idling_ = idleActive_ = doneSent_ = doneWanted_ = refreshing_ = false;
  fetchingNew_ = resolvingFlags_ = probing_ = false;
  serverUidNext_ = 0;
  selecting_.reset();
  flagSeqs_.clear();
  setState(ConnState::Connecting);
  arm(Timer::Connect, cfg_->timeouts.connectMs);
  conn_->connect(cfg_->host, cfg_->port, cfg_->tls == TlsMode::Implicit ? tls_ : nullptr);
}

void IdleSession::onConnected() {
  // The greeting (read next) moves us to `connected`; the connect timer
  // keeps running until then.
}

void IdleSession::onTlsUpgraded() {
  tlsSwitching_ = false;
  // RFC 3501 6.2.1: capabilities learned before STARTTLS are void.
  caps_.clear();
  requestCapabilities([this] { authenticate(); });
}

void IdleSession::onData(const char* data, size_t len) {
  if (tlsSwitching_) return;  // plaintext after "OK Begin TLS" is an injection attempt
  std::vector<Response> out;
  bool ok = parser_.feed(data, len, out);
  for (const auto& r : out) {
    if (!conn_ || conn_->closed() || tlsSwitching_) return;
    handle(r);
  }
  if (!ok && conn_ && !conn_->closed()) fail("PROTOCOL_ERROR", "malformed server response: " + parser_.error());
}

void IdleSession::onClosed(const std::string& code, const std::string& message) {
  if (closing_) {
    finishClose();
    return;
  }
  fail(code, message);
}

void IdleSession::fail(const std::string& code, const std::string& message) {
  if (conn_) conn_->close();
  disarm();
  cmd_.reset();
  idling_ = idleActive_ = false;
  if (closing_) {
    finishClose();
    return;
  }
  bool config = code == "AUTH_FAILED" || code == "TLS_FAILED" || code == "INSECURE_AUTH" ||
                code == "SELECT_FAILED";
  setState(config ? ConnState::Error : ConnState::Disconnected, code, message);
  if (!everReady_) {
    owner_->sessionFirstFailure(*this, code, message);
    return;
  }
  uint64_t delay = backoff_.next();
  if (code == "AUTH_FAILED") {
    if (cfg_->stopOnAuthFailure) return;
    delay = std::max(delay, cfg_->authFailureDelayMs);
  }
  scheduleReconnect(delay);
}

void IdleSession::scheduleReconnect(uint64_t delayMs) { arm(Timer::Reconnect, delayMs); }

void IdleSession::close() {
  if (closing_) return;
  closing_ = true;
  if (!conn_ || conn_->closed() || !greeted_) {
    finishClose();
    return;
  }
  arm(Timer::Logout, cfg_->timeouts.logoutMs);
  if (idling_) {
    if (idleActive_) sendDone();
    else doneWanted_ = true;
    return;  // proceed() logs out once IDLE ends
  }
  if (!cmd_) logout();
}

void IdleSession::logout() {
  send("LOGOUT", [this](const Response&) { finishClose(); });
}

void IdleSession::finishClose() {
  if (closed_) return;
  closed_ = true;
  disarm();
  if (conn_) conn_->close();
  cmd_.reset();
  setState(ConnState::Disconnected);
  owner_->sessionClosed(*this);
}

// ---- state, timers ----

void IdleSession::setState(ConnState s, const std::string& code, const std::string& message) {
  if (!code.empty()) {
    lastErrorCode_ = code;
    lastErrorMessage_ = message;
  }
  if (s == state_ && code.empty()) return;
  Event e;
  e.type = Event::Type::ConnectionStatus;
  e.accountId = cfg_->id;
  e.folder = folder_;
  e.previous = state_;
  e.state = s;
  e.errorCode = code;
  e.errorMessage = message;
  state_ = s;
  owner_->statusChanged(*this);
  owner_->emit(std::move(e));
}

void IdleSession::arm(Timer purpose, uint64_t ms) {
  timerPurpose_ = purpose;
  uv_timer_start(timer_, onTimer, ms, 0);
}

void IdleSession::disarm() {
  timerPurpose_ = Timer::None;
  uv_timer_stop(timer_);
}

void IdleSession::onTimer(uv_timer_t* t) {
  if (auto* self = static_cast<IdleSession*>(t->data)) self->fireTimer();
}

void IdleSession::fireTimer() {
  Timer p = timerPurpose_;
  timerPurpose_ = Timer::None;
  switch (p) {
    case Timer::None:
      break;
    case Timer::Connect:
      fail("TIMEOUT", "no greeting from " + cfg_->host + " within " + std::to_string(cfg_->timeouts.connectMs) + " ms");
      break;
    case Timer::Command:
      fail("TIMEOUT", "server did not answer within " + std::to_string(cfg_->timeouts.commandMs) + " ms");
      break;
    case Timer::Done:
      fail("TIMEOUT", "server did not end IDLE within " + std::to_string(cfg_->idle.doneTimeoutMs) + " ms");
      break;
    case Timer::Refresh:
      refreshing_ = true;
      if (idleActive_) sendDone();
      else doneWanted_ = true;
      break;
    case Timer::Poll:
      poll();
      break;
    case Timer::Reconnect:
      connect();
      break;
    case Timer::Logout:
      finishClose();
      break;
  }
}

// ---- commands ----

void IdleSession::send(std::vector<std::string> parts, std::function<void(const Response&)> onDone,
                       std::function<void(const Response&)> onContinue) {
  Command c;
  c.tag = "A" + std::to_string(++tagCounter_);
  c.verb = parts[0].substr(0, parts[0].find(' '));
  c.onDone = std::move(onDone);
  c.onContinue = std::move(onContinue);
  std::string first = c.tag + " " + parts[0];
  for (size_t i = 1; i < parts.size(); ++i) c.pendingParts.push_back(std::move(parts[i]));
  if (c.pendingParts.empty()) first += "\r\n";
  else c.pendingParts.back() += "\r\n";
  cmd_ = std::move(c);
  if (timerPurpose_ != Timer::Logout) arm(Timer::Command, cfg_->timeouts.commandMs);
  conn_->write(first);
}

std::vector<std::string> IdleSession::astringArgs(const std::string& verb, const std::vector<std::string>& args) const {
  // A synchronizing literal splits the command: the server's '+' is needed
  // before the literal's bytes may follow.
  bool nonSync = hasCap("LITERAL+") || hasCap("LITERAL-");
  std::vector<std::string> parts{verb};
  for (const auto& a : args) {
    if (argForm(a) == ArgForm::Quoted) {
      parts.back() += " " + quote(a);
    } else if (nonSync) {
      parts.back() += " {" + std::to_string(a.size()) + "+}\r\n" + a;
    } else {
      parts.back() += " {" + std::to_string(a.size()) + "}\r\n";
      parts.push_back(a);
    }
  }
  return parts;
}

void IdleSession::handle(const Response& r) {
  switch (r.type) {
    case Response::Type::Continuation:
      if (!cmd_) return;
      if (!cmd_->pendingParts.empty()) {
        std::string part = std::move(cmd_->pendingParts.front());
        cmd_->pendingParts.erase(cmd_->pendingParts.begin());
        conn_->write(part);
      } else if (cmd_->onContinue) {
        cmd_->onContinue(r);
      }
      return;
    case Response::Type::Untagged:
      if (!greeted_) handleGreeting(r);
      else handleUntagged(r);
      return;
    case Response::Type::Tagged: {
      if (!cmd_ || r.tag != cmd_->tag) return;  // stale tag from a timed-out command
      if (r.code) applyCode(*r.code);
      auto done = std::move(cmd_->onDone);
      bool wasLogout = cmd_->verb == "LOGOUT";
      cmd_.reset();
      if (timerPurpose_ == Timer::Command || timerPurpose_ == Timer::Done) disarm();
      if (closing_ && !wasLogout) {
        logout();  // whatever the command led to, we are leaving
        return;
      }
      done(r);
      return;
    }
  }
}

void IdleSession::handleGreeting(const Response& r) {
  greeted_ = true;
  disarm();
  if (r.code) applyCode(*r.code);
  if (r.status == "BYE" || !r.isStatus() || r.status == "NO" || r.status == "BAD") {
    fail("SERVER_BYE", "server refused the connection: " + describe(r));
    return;
  }
  setState(ConnState::Connected);
  if (r.status == "PREAUTH") {
    if (cfg_->tls == TlsMode::StartTls && !conn_->secure()) {
      // RFC 3501 6.2.1: no STARTTLS is possible in the authenticated state.
      fail("TLS_FAILED", "server sent PREAUTH on a connection that must be upgraded with STARTTLS");
      return;
    }
    setState(ConnState::Authenticated);
    requestCapabilities([this] { afterAuth(); });
    return;
  }
  afterGreeting();
}

void IdleSession::handleUntagged(const Response& r) {
  if (r.isStatus()) {
    if (r.code) applyCode(*r.code);
    if (r.status == "BYE" && !closing_) {
      // The server is about to close: reconnect rather than wait for EOF.
      fail("SERVER_BYE", "server closed the session: " + describe(r));
    }
    return;
  }
  const std::string& k = r.keyword;
  if (k == "CAPABILITY") {
    setCapabilities(r.args);
  } else if (k == "EXISTS" && r.number) {
    onExists(static_cast<uint32_t>(*r.number));
  } else if (k == "EXPUNGE" && r.number) {
    onExpunge(static_cast<uint32_t>(*r.number));
  } else if (k == "FETCH" && r.number && !r.args.empty()) {
    onFetch(static_cast<uint32_t>(*r.number), r.args[0]);
  } else if (k == "VANISHED") {
    onVanished(r.args);
  } else if (k == "ENABLED") {
    for (const auto& a : r.args)
      if (a.atomIs("QRESYNC")) qresync_ = true;
  }
}

void IdleSession::applyCode(const ResponseCode& code) {
  if (code.name == "CAPABILITY") {
    setCapabilities(code.args);
    return;
  }
  if (!selecting_) return;  // mailbox codes only count while selecting
  if (code.name == "UIDVALIDITY" && !code.args.empty()) selecting_->uidValidity = toU32(code.args[0]);
  else if (code.name == "UIDNEXT" && !code.args.empty()) selecting_->uidNext = toU32(code.args[0]);
  else if (code.name == "HIGHESTMODSEQ" && !code.args.empty() && code.args[0].isNumber())
    selecting_->highestModseq = code.args[0].num;
}

void IdleSession::setCapabilities(const std::vector<Value>& caps) {
  capsFresh_ = true;
  caps_.clear();
  for (const auto& c : caps)
    if (c.isText()) caps_.insert(upper(c.str));
}

bool IdleSession::hasCap(const std::string& cap) const { return caps_.count(cap) > 0; }

void IdleSession::requestCapabilities(std::function<void()> then) {
  if (!caps_.empty()) {
    then();
    return;
  }
  send("CAPABILITY", [this, then = std::move(then)](const Response& r) {
    if (r.status != "OK") {
      fail("PROTOCOL_ERROR", "CAPABILITY failed: " + describe(r));
      return;
    }
    then();
  });
}

// ---- login ----

void IdleSession::afterGreeting() {
  requestCapabilities([this] {
    if (cfg_->tls == TlsMode::StartTls) startTls();
    else authenticate();
  });
}

void IdleSession::startTls() {
  if (!hasCap("STARTTLS")) {
    fail("TLS_FAILED", "server does not offer STARTTLS; refusing to continue without TLS");
    return;
  }
  send("STARTTLS", [this](const Response& r) {
    if (r.status != "OK") {
      fail("TLS_FAILED", "STARTTLS refused: " + describe(r));
      return;
    }
    tlsSwitching_ = true;
    parser_.reset();
    arm(Timer::Connect, cfg_->timeouts.connectMs);
    conn_->startTls(tls_);
  });
}

void IdleSession::authenticate() {
  if (!conn_->secure() && !cfg_->allowInsecureAuth) {
    fail("INSECURE_AUTH",
         "refusing to send credentials over an unencrypted connection (set allowInsecureAuth to allow it)");
    return;
  }
  setState(ConnState::Authenticating);
  capsFresh_ = false;
  if (!cfg_->accessToken.empty()) {
    if (hasCap("AUTH=XOAUTH2")) {
      authenticateSasl("XOAUTH2", saslXOAuth2(cfg_->user, cfg_->accessToken));
    } else if (hasCap("AUTH=OAUTHBEARER")) {
      authenticateSasl("OAUTHBEARER", saslOAuthBearer(cfg_->user, cfg_->accessToken, cfg_->host, cfg_->port));
    } else {
      fail("AUTH_FAILED", "server offers neither AUTH=XOAUTH2 nor AUTH=OAUTHBEARER for accessToken");
    }
    return;
  }
  if (hasCap("AUTH=PLAIN")) {
    authenticateSasl("PLAIN", saslPlain(cfg_->user, cfg_->pass));
    return;
  }
  if (hasCap("LOGINDISABLED")) {
    fail("AUTH_FAILED", "server disabled LOGIN and offers no AUTH=PLAIN");
    return;
  }
  send(astringArgs("LOGIN", {cfg_->user, cfg_->pass}), [this](const Response& r) {
    if (isAuthFailure(r)) {
      fail("AUTH_FAILED", "login failed: " + describe(r));
      return;
    }
    afterAuth();
  });
}

void IdleSession::authenticateSasl(const std::string& mech, const std::string& initial) {
  bool saslIr = hasCap("SASL-IR");
  auto sentInitial = std::make_shared<bool>(saslIr);
  auto onContinue = [this, initial, sentInitial](const Response&) {
    // A second '+' carries an error report (XOAUTH2/OAUTHBEARER); an empty
    // reply lets the server finish with a tagged NO.
    conn_->write(*sentInitial ? std::string("\r\n") : initial + "\r\n");
    *sentInitial = true;
  };
  std::string text = "AUTHENTICATE " + mech + (saslIr ? " " + (initial.empty() ? std::string("=") : initial) : "");
  send(std::vector<std::string>{text},
       [this](const Response& r) {
         if (isAuthFailure(r)) {
           fail("AUTH_FAILED", "authentication failed: " + describe(r));
           return;
         }
         afterAuth();
       },
       onContinue);
}

void IdleSession::afterAuth() {
  setState(ConnState::Authenticated);
  // Capabilities may change after login; the tagged OK often carries them.
  auto next = [this] {
    if (hasCap("QRESYNC") && hasCap("ENABLE")) {
      send("ENABLE QRESYNC", [this](const Response&) { select(); });
    } else {
      select();
    }
  };
  if (!capsFresh_) caps_.clear();
  requestCapabilities(next);
}

// ---- mailbox ----

void IdleSession::select() {
  selecting_ = Selected{};
  auto parts = astringArgs("SELECT", {wireFolder_});
  if (hasCap("CONDSTORE") && !qresync_) parts.back() += " (CONDSTORE)";
  send(std::move(parts), [this](const Response& r) {
    if (r.status != "OK") {
      selecting_.reset();
      fail("SELECT_FAILED", "cannot select " + folder_ + ": " + describe(r));
      return;
    }
    afterSelect();
  });
}

void IdleSession::afterSelect() {
  Selected sel = *selecting_;
  selecting_.reset();
  selected_ = true;
  bool known = fs_.uidValidity != 0;
  if (known && sel.uidValidity != fs_.uidValidity) {
    Event e;
    e.type = Event::Type::FolderReset;
    e.accountId = cfg_->id;
    e.folder = folder_;
    e.uidValidity = sel.uidValidity;
    owner_->emit(std::move(e));
    known = false;
  }
  fs_.uidValidity = sel.uidValidity;
  fs_.highestModseq = sel.highestModseq;
  fs_.exists = sel.exists;
  if (!known) {
    // A first sight (or a reset folder) sets the baseline: existing mail is
    // not new mail.
    fs_.uidNext = sel.uidNext;
  } else if (sel.uidNext == 0 ? sel.exists > 0 : sel.uidNext > fs_.uidNext) {
    newPending_ = true;  // mail arrived while we were away
    serverUidNext_ = sel.uidNext;
  }
  owner_->statusChanged(*this);
  if (fs_.uidNext == 0) {
    // No UIDNEXT from the server: learn the highest UID instead.
    if (sel.exists == 0) {
      fs_.uidNext = 1;
    } else {
      probing_ = true;
      send("UID FETCH * (UID)", [this](const Response& r) {
        probing_ = false;
        if (r.status != "OK") {
          fail("PROTOCOL_ERROR", "cannot learn UIDNEXT: " + describe(r));
          return;
        }
        if (fs_.uidNext == 0) fs_.uidNext = 1;
        proceed();
      });
      return;
    }
  }
  proceed();
}

void IdleSession::proceed() {
  if (cmd_ || !conn_ || conn_->closed()) return;
  if (closing_) {
    logout();
    return;
  }
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
    arm(Timer::Poll, cfg_->idle.pollMs);
  }
}

void IdleSession::watching() {
  if (state_ == ConnState::Idle) return;
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
  fetchFloor_ = fs_.uidNext;
  fetchMax_ = 0;
  send("UID FETCH " + std::to_string(fs_.uidNext ? fs_.uidNext : 1) + ":* " + kNewMessageItems,
       [this](const Response& r) {
         fetchingNew_ = false;
         if (r.status != "OK") {
           fail("PROTOCOL_ERROR", "fetching new messages failed: " + describe(r));
           return;
         }
         // Every UID below the server's UIDNEXT at SELECT time was covered,
         // even if those messages are gone by now.
         fs_.uidNext = std::max({fs_.uidNext, fetchMax_ + 1, serverUidNext_});
         serverUidNext_ = 0;
         owner_->statusChanged(*this);
         proceed();
       });
}

void IdleSession::fetchFlagged() {
  std::string set;
  for (uint32_t s : flagSeqs_) set += (set.empty() ? "" : ",") + std::to_string(s);
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
  doneWanted_ = doneWanted_ || closing_;
  send(std::vector<std::string>{"IDLE"},
       [this](const Response& r) {
         bool wasRefresh = refreshing_;
         idling_ = idleActive_ = doneSent_ = doneWanted_ = refreshing_ = false;
         if (r.status != "OK") {
           fail("PROTOCOL_ERROR", "IDLE failed: " + describe(r));
           return;
         }
         if (wasRefresh) {
           Event e;
           e.type = Event::Type::IdleRefreshed;
           e.accountId = cfg_->id;
           e.folder = folder_;
           owner_->emit(std::move(e));
         }
         proceed();
       },
       [this](const Response&) {
         idleActive_ = true;
         if (!closing_) watching();
         if (doneWanted_ || newPending_ || !flagSeqs_.empty() || closing_) {
           sendDone();
           return;
         }
         // The server owes us nothing while idling, so the refresh is the
         // read deadline: its DONE must be answered within doneTimeoutMs.
         arm(Timer::Refresh, cfg_->idle.refreshMs);
       });
}

void IdleSession::sendDone() {
  if (!idling_ || doneSent_) return;
  if (!idleActive_) {
    doneWanted_ = true;
    return;
  }
  doneSent_ = true;
  if (timerPurpose_ != Timer::Logout) arm(Timer::Done, cfg_->idle.doneTimeoutMs);
  conn_->write("DONE\r\n");
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

void IdleSession::onExists(uint32_t n) {
  if (selecting_) {
    selecting_->exists = n;
    return;
  }
  if (n > fs_.exists) newPending_ = true;
  fs_.exists = n;
  if (newPending_ && idling_) sendDone();
}

void IdleSession::onExpunge(uint32_t seq) {
  if (fs_.exists > 0) --fs_.exists;
  // Sequence numbers above the expunged one shift down by one.
  std::set<uint32_t> shifted;
  for (uint32_t s : flagSeqs_) {
    if (s < seq) shifted.insert(s);
    else if (s > seq) shifted.insert(s - 1);
  }
  flagSeqs_.swap(shifted);
  Event e;
  e.type = Event::Type::MessageDeleted;
  e.accountId = cfg_->id;
  e.folder = folder_;
  e.seq = seq;
  owner_->emit(std::move(e));
  owner_->statusChanged(*this);
}

void IdleSession::onVanished(const std::vector<Value>& args) {
  bool earlier = !args.empty() && args[0].isList();
  const Value* set = nullptr;
  for (const auto& a : args)
    if (a.isText()) set = &a;
  if (!set) return;
  auto uids = expandUidSet(set->str, 100000);
  if (!earlier) fs_.exists = fs_.exists > uids.size() ? fs_.exists - static_cast<uint32_t>(uids.size()) : 0;
  for (uint32_t uid : uids) {
    Event e;
    e.type = Event::Type::MessageDeleted;
    e.accountId = cfg_->id;
    e.folder = folder_;
    e.uid = uid;
    owner_->emit(std::move(e));
  }
  owner_->statusChanged(*this);
}

void IdleSession::onFetch(uint32_t seq, const Value& items) {
  if (!items.isList()) return;
  uint32_t uid = 0;
  const Value* flags = nullptr;
  const Value* envelope = nullptr;
  const Value* internalDate = nullptr;
  uint64_t size = 0, modseq = 0;
  const auto& l = items.list;
  for (size_t i = 0; i + 1 < l.size(); i += 2) {
    const Value& key = l[i];
    const Value& val = l[i + 1];
    if (key.atomIs("UID")) uid = toU32(val);
    else if (key.atomIs("FLAGS")) flags = &val;
    else if (key.atomIs("ENVELOPE")) envelope = &val;
    else if (key.atomIs("INTERNALDATE")) internalDate = &val;
    else if (key.atomIs("RFC822.SIZE")) size = val.num;
    else if (key.atomIs("MODSEQ") && val.isList() && !val.list.empty()) modseq = val.list[0].num;
  }
  if (modseq > fs_.highestModseq) fs_.highestModseq = modseq;
  if (probing_) {
    if (uid >= fs_.uidNext) fs_.uidNext = uid + 1;
    return;
  }

  if (envelope) {
    // Only our new-message fetch asks for ENVELOPE. "N:*" also returns the
    // highest message when its UID is below N, which was already reported.
    if (!fetchingNew_ || uid < fetchFloor_ || uid == 0) return;
    if (uid > fetchMax_) fetchMax_ = uid;
    Event e;
    e.type = Event::Type::NewMessage;
    e.accountId = cfg_->id;
    e.folder = folder_;
    e.uid = uid;
    e.seq = seq;
    e.uidValidity = fs_.uidValidity;
    e.modseq = modseq;
    e.size = size;
    if (flags) e.flags = flagList(*flags);
    if (internalDate && internalDate->isText()) e.internalDate = parseInternalDate(internalDate->str);
    e.hasEnvelope = decodeEnvelope(*envelope, e.envelope);
    owner_->emit(std::move(e));
    return;
  }
  if (!flags || selecting_) return;
  if (uid == 0 && !resolvingFlags_) {
    // Without QRESYNC servers may omit the UID; look it up before reporting.
    flagSeqs_.insert(seq);
    if (idling_) sendDone();
    return;
  }
  Event e;
  e.type = Event::Type::FlagsChanged;
  e.accountId = cfg_->id;
  e.folder = folder_;
  e.uid = uid;
  e.seq = seq;
  e.modseq = modseq;
  e.flags = flagList(*flags);
  owner_->emit(std::move(e));
}

}  // namespace imap
