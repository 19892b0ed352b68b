#include "imap/token.h"

namespace imap {

void TokenBroker::get(const std::string& accountId, bool force, double nowMs, Callback done) {
  Entry& e = entries_[accountId];
  bool fresh = !e.token.empty() && (e.expiresAt <= 0 || nowMs + static_cast<double>(refreshBeforeMs_) < e.expiresAt);
  if (fresh && !force) {
    done(e.token, {});
    return;
  }
  if (force) e.token.clear();
  e.waiters.push_back(std::move(done));
  if (e.inflight) return;  // one refresh serves every waiting connection
  e.inflight = true;
  ++requests_;
  request_(accountId);
}

void TokenBroker::provide(const std::string& accountId, const std::string& token, double expiresAtMs,
                          const std::string& error) {
  auto it = entries_.find(accountId);
  // Unasked (e.g. a late answer after its request was failed): it must not
  // replace the token a newer request brought.
  if (it == entries_.end() || !it->second.inflight) return;
  Entry& e = it->second;
  e.inflight = false;
  e.token = error.empty() ? token : std::string();
  e.expiresAt = expiresAtMs;
  std::vector<Callback> waiters;
  waiters.swap(e.waiters);
  // Copies: a waiter may re-enter get() or forget() and change the map.
  std::string tok = e.token;
  std::string err = tok.empty() ? (error.empty() ? std::string("getAccessToken returned no accessToken") : error)
                                : std::string();
  for (auto& w : waiters) w(tok, err);
}

void TokenBroker::forget(const std::string& accountId) {
  auto it = entries_.find(accountId);
  if (it == entries_.end()) return;
  std::vector<Callback> waiters;
  waiters.swap(it->second.waiters);
  entries_.erase(it);
  for (auto& w : waiters) w({}, "account removed");
}

}  // namespace imap
