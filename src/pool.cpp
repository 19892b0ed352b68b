#include "pool.h"

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

PoolConnection::PoolConnection(Pool* pool, ClientHost* host, const AccountConfig* cfg, std::shared_ptr<TlsContext> tls)
    : ImapClient(host, cfg, std::move(tls)), pool_(pool) {}

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

size_t Pool::totalOpen() const {
  size_t n = 0;
  for (const auto& [id, ap] : accounts_) n += ap.conns.size();
  return n;
}

size_t Pool::limitFor(const std::string& accountId) const {
  auto it = accounts_.find(accountId);
  return it == accounts_.end() || it->second.limit == 0 ? opts_.maxPerAccount : it->second.limit;
}

void Pool::acquire(const AccountConfig* cfg, std::shared_ptr<TlsContext> tls, Lease lease) {
  changed_.insert(cfg->id);
  AccountPool& ap = accounts_[cfg->id];
  if (ap.limit == 0) ap.limit = opts_.maxPerAccount;
  ap.waiting.push_back(Waiter{cfg, std::move(tls), std::move(lease), now()});
  serve(cfg->id);
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
    if (connecting >= ap.waiting.size() || ap.conns.size() >= ap.limit || totalOpen() >= opts_.maxTotal) return;
    const Waiter& w = ap.waiting.front();
    ap.conns.push_back(std::make_unique<PoolConnection>(this, host_, w.cfg, w.tls));
    ++ap.stats.created;
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(sweepTimer_))) uv_timer_start(sweepTimer_, onSweep, 1000, 1000);
    ap.conns.back()->connect();
    // connect() may fail synchronously (e.g. DNS), which re-enters serve();
    // the loop re-reads everything on the next round.
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
  auto it = accounts_.find(c->config().id);
  if (it == accounts_.end()) return;
  if (!healthy || !c->connected()) {
    discard(it->second, c);
  }
  serve(c->config().id);
}

void Pool::discard(AccountPool& ap, PoolConnection* c) {
  changed_.insert(c->config().id);
  auto pos = std::find_if(ap.conns.begin(), ap.conns.end(), [c](const auto& p) { return p.get() == c; });
  if (pos == ap.conns.end()) return;
  std::unique_ptr<PoolConnection> owned = std::move(*pos);
  ap.conns.erase(pos);
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
    return;
  }
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
  changed_.insert(accountId);
  for (auto& lost : lessees) lost("CLOSED", "account removed");
  for (auto& w : waiting) w.lease(nullptr, "CLOSED", "account removed");
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
  if (graveyard_.empty() && totalOpen() == 0) uv_timer_stop(sweepTimer_);
}

}  // namespace imap
