#include "sync/pool.h"

#include <algorithm>

namespace imap {

namespace {

bool tooManyConnections(const std::string& message) {
  std::string m = upper(message);
  return m.find("TOO MANY") != std::string::npos || m.find("[LIMIT]") != std::string::npos ||
         m.find("MAXIMUM NUMBER OF CONNECTIONS") != std::string::npos;
}

}  // namespace

// ---- PoolConnection ----

PoolConnection::PoolConnection(Pool* pool, ClientHost* host, AccountConfigPtr cfg, std::shared_ptr<TlsContext> tls)
    : LentClient(host, std::move(cfg), std::move(tls)), pool_(pool) {}

void PoolConnection::onAuthenticated() {
  if (hasCap("QRESYNC") && hasCap("ENABLE")) {
    send("ENABLE QRESYNC", [this](const Response& r) {
      qresync = r.status == "OK";
      pool_->connectionReady(this);
    });
    return;
  }
  pool_->connectionReady(this);
}

void PoolConnection::onFailure(const std::string& code, const std::string& message) {
  pool_->connectionFailed(this, code, message);
}

void PoolConnection::onUntagged(const Response& r) {
  if (untagged) untagged(r);
}

void PoolConnection::onCode(const ResponseCode& c) {
  if (codes) codes(c);
}

// ---- Pool ----

Pool::Pool(ClientHost* host, PoolOptions options) : host_(host), opts_(options) {
  sweepTimer_ = new uv_timer_t;
  uv_timer_init(host_->shared()->loop, sweepTimer_);
  sweepTimer_->data = this;
  // The sweep must not keep the loop alive on its own, and runs only while
  // there are connections to sweep (an idle engine should not wake up).
  uv_unref(reinterpret_cast<uv_handle_t*>(sweepTimer_));
}

Pool::~Pool() {
  accounts_.clear();
  graveyard_.clear();
  sweepTimer_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(sweepTimer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

uint64_t Pool::now() const { return uv_now(host_->shared()->loop); }

size_t Pool::limitFor(const std::string& accountId) const {
  auto it = accounts_.find(accountId);
  return it == accounts_.end() || it->second.limit == 0 ? opts_.maxPerAccount : it->second.limit;
}

void Pool::acquire(AccountConfigPtr cfg, std::shared_ptr<TlsContext> tls, Lease lease) {
  std::string id = cfg->id;
  changed_.insert(id);
  AccountPool& ap = accounts_[id];
  if (ap.limit == 0) ap.limit = opts_.maxPerAccount;
  ap.waiting.push_back(Waiter{std::move(cfg), std::move(tls), std::move(lease), now()});
  serve(id);
}

bool Pool::othersStarved(const std::string& accountId) const {
  for (const auto& id : starved_)
    if (id != accountId) return true;
  return false;
}

void Pool::serve(const std::string& accountId) {
  auto it = accounts_.find(accountId);
  if (it == accounts_.end()) return;
  AccountPool& ap = it->second;
  while (!ap.waiting.empty()) {
    PoolConnection* idle = nullptr;
    size_t connecting = 0;
    for (auto& c : ap.conns) {
      if (!c->ready_) ++connecting;
      else if (!idle && !c->leased_ && !c->busy() && c->connected() && !c->leaving()) idle = c.get();
    }
    if (idle) {
      Waiter w = std::move(ap.waiting.front());
      ap.waiting.pop_front();
      if (now() - idle->lastUsed_ >= opts_.healthCheckMs) healthCheck(ap, idle, std::move(w));
      else hand(ap, idle, std::move(w), true);
      continue;
    }
    if (connecting >= ap.waiting.size() || ap.conns.size() >= ap.limit) return;
    if (totalOpen() >= opts_.maxTotal && !evictIdle(accountId)) {
      if (std::find(starved_.begin(), starved_.end(), accountId) == starved_.end()) starved_.push_back(accountId);
      return;
    }
    const Waiter& w = ap.waiting.front();
    ap.conns.push_back(std::make_unique<PoolConnection>(this, host_, w.cfg, w.tls));
    ++open_;
    ++ap.stats.created;
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(sweepTimer_))) uv_timer_start(sweepTimer_, onSweep, 1000, 1000);
    ap.conns.back()->connect();
    // connect() may fail synchronously (e.g. DNS), which re-enters serve();
    // the loop re-reads everything on the next round.
  }
}

std::pair<Pool::AccountPool*, PoolConnection*> Pool::oldestIdle(const std::string& except) {
  std::pair<AccountPool*, PoolConnection*> found{nullptr, nullptr};
  for (auto& [id, ap] : accounts_) {
    if (id == except) continue;
    for (auto& c : ap.conns)
      if (c->ready_ && !c->leased_ && !c->busy() && (!found.second || c->lastUsed_ < found.second->lastUsed_))
        found = {&ap, c.get()};
  }
  return found;
}

bool Pool::evictIdle(const std::string& except) {
  auto [owner, oldest] = oldestIdle(except);
  if (!oldest) return false;
  discard(*owner, oldest);
  return true;
}

void Pool::serveStarved() {
  // Each account gets one turn per call; one that is still blocked goes to
  // the back, behind those that waited longer.
  for (size_t turns = starved_.size(); turns > 0 && !starved_.empty(); --turns) {
    // Full and nothing idle to give up: no turn can succeed.
    if (totalOpen() >= opts_.maxTotal && !oldestIdle({}).second) return;
    std::string id = starved_.front();
    starved_.pop_front();
    serve(id);
  }
}

void Pool::hand(AccountPool& ap, PoolConnection* c, Waiter w, bool reused) {
  changed_.insert(w.cfg->id);
  c->leased_ = true;
  if (reused) ++ap.stats.reused;
  ap.stats.waitTimeMs += static_cast<double>(now() - w.since);
  w.lease(c, {}, {});
}

void Pool::healthCheck(AccountPool& ap, PoolConnection* c, Waiter w) {
  ++ap.stats.healthChecks;
  c->leased_ = true;
  std::string id = w.cfg->id;
  auto waiter = std::make_shared<Waiter>(std::move(w));
  c->checking_ = [this, c, id, waiter](bool ok) {
    auto it = accounts_.find(id);
    if (it == accounts_.end()) return;
    if (ok) {
      hand(it->second, c, std::move(*waiter), true);
      return;
    }
    // A dead connection is replaced: the caller waits for a fresh one.
    it->second.waiting.push_front(std::move(*waiter));
    c->leased_ = false;
    discard(it->second, c);
    serve(id);
  };
  c->send("NOOP", [c](const Response& r) {
    // Moved out first: the check may replace or free what it captured.
    auto check = std::move(c->checking_);
    c->checking_ = nullptr;
    if (check) check(r.status == "OK");
  });
}

void Pool::release(PoolConnection* c, bool healthy) {
  changed_.insert(c->config().id);
  c->leased_ = false;
  c->untagged = nullptr;
  c->codes = nullptr;
  c->lost = nullptr;
  c->lastUsed_ = now();
  std::string id = c->config().id;
  auto it = accounts_.find(id);
  if (it == accounts_.end()) return;
  // Under maxTotal pressure a released slot goes to an account that has
  // been waiting for one, not back to this account's next waiter.
  bool yield = othersStarved(id) && totalOpen() >= opts_.maxTotal;
  if (!healthy || !c->connected() || yield) discard(it->second, c);
  serveStarved();
  serve(id);
}

void Pool::discard(AccountPool& ap, PoolConnection* c) {
  changed_.insert(c->config().id);
  auto pos = std::find_if(ap.conns.begin(), ap.conns.end(), [c](const auto& p) { return p.get() == c; });
  if (pos == ap.conns.end()) return;
  std::unique_ptr<PoolConnection> owned = std::move(*pos);
  ap.conns.erase(pos);
  --open_;
  c->ready_ = false;
  c->logout([c] { c->finished_ = true; });
  graveyard_.push_back(std::move(owned));
}

void Pool::connectionReady(PoolConnection* c) {
  changed_.insert(c->config().id);
  c->ready_ = true;
  c->lastUsed_ = now();
  serve(c->config().id);
}

void Pool::connectionFailed(PoolConnection* c, const std::string& code, const std::string& message) {
  std::string id = c->config().id;
  auto it = accounts_.find(id);
  if (it == accounts_.end()) return;
  AccountPool& ap = it->second;
  ++ap.stats.failures;
  changed_.insert(id);
  bool wasReady = c->ready_;
  if (auto check = std::move(c->checking_)) {
    c->checking_ = nullptr;
    check(false);
    return;
  }
  if (auto lost = std::move(c->lost)) {
    c->lost = nullptr;
    lost(code, message);
    // The lessee may have removed the account meanwhile.
    if (accounts_.find(id) == accounts_.end()) return;
  }
  discard(ap, c);
  if (!wasReady) {
    if (tooManyConnections(message) && ap.limit > 1) {
      // The server caps connections per account: keep under it from now on.
      ap.limit = std::max<size_t>(1, ap.conns.size());
      if (!ap.conns.empty()) return;  // the survivors will serve the waiters
    }
    // Nothing could be opened: tell every waiter of this account (others
    // are unaffected) rather than let them hang.
    std::deque<Waiter> waiting;
    waiting.swap(ap.waiting);
    for (auto& w : waiting) w.lease(nullptr, code, message);
    serveStarved();
    return;
  }
  serveStarved();
  serve(id);
}

void Pool::dropAccount(const std::string& accountId) {
  auto it = accounts_.find(accountId);
  if (it == accounts_.end()) return;
  AccountPool& ap = it->second;
  std::deque<Waiter> waiting;
  waiting.swap(ap.waiting);
  // Lessees must hear that their commands will never be answered: LOGOUT
  // preempts them.
  std::vector<std::function<void(const std::string&, const std::string&)>> lessees;
  for (auto& c : ap.conns) {
    if (c->lost) lessees.push_back(std::move(c->lost));
    c->lost = nullptr;
  }
  while (!ap.conns.empty()) discard(ap, ap.conns.back().get());
  accounts_.erase(it);
  starved_.erase(std::remove(starved_.begin(), starved_.end(), accountId), starved_.end());
  changed_.insert(accountId);
  for (auto& lost : lessees) lost("CLOSED", "account removed");
  for (auto& w : waiting) w.lease(nullptr, "CLOSED", "account removed");
  serveStarved();
}

PoolStats Pool::stats(const std::string& accountId) const {
  PoolStats total;
  auto first = accountId.empty() ? accounts_.begin() : accounts_.find(accountId);
  auto last = accountId.empty() || first == accounts_.end() ? accounts_.end() : std::next(first);
  for (auto it = first; it != last; ++it) {
    const AccountPool& ap = it->second;
    total.created += ap.stats.created;
    total.reused += ap.stats.reused;
    total.healthChecks += ap.stats.healthChecks;
    total.failures += ap.stats.failures;
    total.waitTimeMs += ap.stats.waitTimeMs;
    for (const auto& c : ap.conns) {
      ++total.open;
      if (c->leased_) ++total.busy;
      else if (c->ready_) ++total.idle;
    }
  }
  return total;
}

void Pool::onSweep(uv_timer_t* t) {
  if (auto* self = static_cast<Pool*>(t->data)) self->sweep();
}

void Pool::sweep() {
  graveyard_.erase(std::remove_if(graveyard_.begin(), graveyard_.end(), [](const auto& c) { return c->finished_; }),
                   graveyard_.end());
  uint64_t t = now();
  for (auto& [id, ap] : accounts_) {
    std::vector<PoolConnection*> stale;
    for (auto& c : ap.conns)
      if (c->ready_ && !c->leased_ && t - c->lastUsed_ >= opts_.idleTimeoutMs) stale.push_back(c.get());
    for (auto* c : stale) discard(ap, c);
  }
  serveStarved();
  if (graveyard_.empty() && totalOpen() == 0) uv_timer_stop(sweepTimer_);
}

}  // namespace imap
