#include "imap/client.h"

#include "imap/command.h"

#include "imap/auth.h"
#include "imap/fetch.h"

namespace imap {

ImapClient::ImapClient(ClientHost* host, AccountConfigPtr cfg, std::shared_ptr<TlsContext> tls)
    : host_(host), cfg_(std::move(cfg)), tls_(std::move(tls)), shared_(host->shared()) {
  timer_ = new uv_timer_t;
  uv_timer_init(shared_->loop, timer_);
  timer_->data = this;
}

ImapClient::~ImapClient() {
  if (settingUp_) shared_->setupEnded(false);
  conn_.reset();
  timer_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

// ---- lifecycle ----

void ImapClient::connect() {
  ++generation_;
  if (!settingUp_) {
    settingUp_ = true;
    ++shared_->settingUp;
  }
  conn_ = std::make_unique<Connection>(shared_, static_cast<Connection::Handler*>(this));
  parser_.reset();
  caps_.clear();
  cmd_.reset();
  greeted_ = tlsSwitching_ = tokenRetried_ = capsFresh_ = false;
  setState(ConnState::Connecting);
  arm(kConnectTimer, cfg_->timeouts.connectMs);
  conn_->connect(cfg_->host, cfg_->port, cfg_->tls == TlsMode::Implicit ? tls_ : nullptr, cfg_->keepalive);
}

void ImapClient::onConnected() {
  // The greeting, read next, moves us on; the connect timer runs until then.
}

void ImapClient::onTlsUpgraded() {
  tlsSwitching_ = false;
  caps_.clear();  // RFC 3501 6.2.1: what was learned before STARTTLS is void
  requestCapabilities([this] { authenticate(); });
}

void ImapClient::onData(const char* data, size_t len) {
  if (tlsSwitching_) return;  // plaintext after "OK Begin TLS" is an injection attempt
  lastReceivedAt_ = uv_now(shared_->loop);
  receivedSteady_ = std::chrono::steady_clock::now();
  std::vector<Response> out;
  bool ok = parser_.feed(data, len, out);
  for (const auto& r : out) {
    if (!connected() || tlsSwitching_) return;
    handle(r);
  }
  if (!ok && connected()) fail("PROTOCOL_ERROR", "malformed server response: " + parser_.error());
}

void ImapClient::onClosed(const std::string& code, const std::string& message) {
  if (leaving_) {
    finishLogout();
    return;
  }
  fail(code, message);
}

void ImapClient::fail(const std::string& code, const std::string& message) {
  if (conn_) conn_->close();
  disarm();
  cmd_.reset();
  settled();
  if (leaving_) {
    finishLogout();
    return;
  }
  onFailure(code, message);
}

void ImapClient::logout(std::function<void()> done) {
  if (leaving_) return;
  leaving_ = true;
  logoutDone_ = std::move(done);
  if (!connected() || !greeted_) {
    finishLogout();
    return;
  }
  arm(kLogoutTimer, cfg_->timeouts.logoutMs);
  if (cmd_) {
    onLeaving();  // the tagged answer to the current command triggers LOGOUT
    return;
  }
  sendLogout();
}

void ImapClient::sendLogout() {
  send("LOGOUT", [this](const Response&) { finishLogout(); });
}

void ImapClient::finishLogout() {
  disarm();
  if (conn_) conn_->close();
  cmd_.reset();
  settled();
  if (auto done = std::move(logoutDone_)) {
    logoutDone_ = nullptr;
    done();
  }
}

void ImapClient::setState(ConnState s, const std::string& code, const std::string& message) {
  if (!code.empty()) {
    lastErrorCode_ = code;
    lastErrorMessage_ = message;
  }
  if (s == state_ && code.empty()) return;
  ConnState prev = state_;
  state_ = s;
  onStateChange(prev, s, code, message);
}

// ---- timer ----

void ImapClient::arm(int purpose, uint64_t ms) {
  timerPurpose_ = purpose;
  uv_timer_start(timer_, timerCallback, ms, 0);
}

void ImapClient::disarm() {
  timerPurpose_ = kNoTimer;
  uv_timer_stop(timer_);
}

void ImapClient::timerCallback(uv_timer_t* t) {
  if (auto* self = static_cast<ImapClient*>(t->data)) self->fireTimer();
}

void ImapClient::fireTimer() {
  int p = timerPurpose_;
  timerPurpose_ = kNoTimer;
  switch (p) {
    case kNoTimer:
      return;
    case kConnectTimer:
      fail("TIMEOUT", "no greeting from " + cfg_->host + " within " + std::to_string(cfg_->timeouts.connectMs) + " ms");
      return;
    case kCommandTimer:
      fail("TIMEOUT", "server did not answer within " + std::to_string(cfg_->timeouts.commandMs) + " ms");
      return;
    case kLogoutTimer:
      finishLogout();
      return;
    default:
      onTimer(p);
  }
}

// ---- commands ----

void ImapClient::send(std::vector<std::string> parts, Done onDone, Done onContinue) {
  if (!connected()) return;
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
  if (timerPurpose_ != kLogoutTimer) arm(kCommandTimer, cfg_->timeouts.commandMs);
  conn_->write(first);
}

std::vector<std::string> ImapClient::astringArgs(const std::string& verb, const std::vector<std::string>& args) const {
  CommandParts cmd(verb, nonSyncLiterals());
  for (const auto& a : args) cmd.astring(a);
  return cmd.take();
}

void ImapClient::handle(const Response& r) {
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
      if (r.code) {
        if (r.code->name == "CAPABILITY") setCapabilities(r.code->args);
        onCode(*r.code);
      }
      Done done = std::move(cmd_->onDone);
      bool wasLogout = cmd_->verb == "LOGOUT";
      cmd_.reset();
      if (timerPurpose_ == kCommandTimer) disarm();
      if (leaving_ && !wasLogout) {
        sendLogout();  // whatever the command led to, we are leaving
        return;
      }
      done(r);
      return;
    }
  }
}

void ImapClient::handleGreeting(const Response& r) {
  greeted_ = true;
  disarm();
  if (r.code && r.code->name == "CAPABILITY") setCapabilities(r.code->args);
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
    caps_.clear();
    requestCapabilities([this] { authenticated(); });
    return;
  }
  requestCapabilities([this] {
    if (cfg_->tls == TlsMode::StartTls) startTls();
    else authenticate();
  });
}

void ImapClient::handleUntagged(const Response& r) {
  if (r.isStatus()) {
    if (r.code) {
      if (r.code->name == "CAPABILITY") setCapabilities(r.code->args);
      onCode(*r.code);
    }
    if (r.status == "BYE" && !leaving_) {
      // The server is about to close: reconnect rather than wait for EOF.
      fail("SERVER_BYE", "server closed the session: " + describe(r));
    }
    return;
  }
  if (r.keyword == "CAPABILITY") {
    setCapabilities(r.args);
    return;
  }
  onUntagged(r);
}

void ImapClient::setCapabilities(const std::vector<Value>& caps) {
  capsFresh_ = true;
  std::string all;
  size_t size = 0;
  for (const auto& c : caps)
    if (c.isText() && !c.str.empty()) size += c.str.size() + 1;
  all.reserve(size);
  for (const auto& c : caps) {
    // A space inside a (quoted) capability would make it two; none is valid.
    if (!c.isText() || c.str.empty() || c.str.find(' ') != std::string::npos) continue;
    if (!all.empty()) all += ' ';
    all += upper(c.str);
  }
  caps_ = std::move(all);
}

bool ImapClient::hasCap(std::string_view cap) const {
  if (cap.empty()) return false;
  std::string_view all = caps_;
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find(' ', pos);
    if (end == std::string_view::npos) end = all.size();
    if (all.substr(pos, end - pos) == cap) return true;
    pos = end + 1;
  }
  return false;
}

void ImapClient::settled() {
  if (!settingUp_) return;
  settingUp_ = false;
  shared_->setupEnded(true);
}

void ImapClient::releaseScratch() {
  if (parser_.buffered() != 0 || parser_.failed()) return;
  // reset() frees the input buffer: a moved-in std::string in its short form
  // would leave the old heap buffer in place. The assignment frees the rest.
  parser_.reset();
  parser_ = Parser();
}

}  // namespace imap
