// Per-account pools of authenticated command connections, kept apart from
// the dedicated IDLE connections and reused across sync cycles.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "imap/lent_client.h"
#include "model/engine_options.h"

namespace imap {

class Pool;

// A pooled connection. While leased, untagged responses go to `untagged`.
class PoolConnection : public LentClient {
 public:
  PoolConnection(Pool* pool, ClientHost* host, AccountConfigPtr cfg, std::shared_ptr<TlsContext> tls);

 private:
  friend class Pool;
  void onAuthenticated() override;
  void onFailure(const std::string& code, const std::string& message) override;
  void onUntagged(const Response& r) override;
  void onCode(const ResponseCode& c) override;

  Pool* pool_;
  bool ready_ = false;
  bool leased_ = false;
  bool finished_ = false;  // closed for good; freed by the next sweep
  uint64_t lastUsed_ = 0;
  std::function<void(bool ok)> checking_;  // a health check is in flight
};

class Pool {
 public:
  // conn is null when no connection could be had; code/message say why.
  using Lease = std::function<void(PoolConnection* conn, const std::string& code, const std::string& message)>;

  Pool(ClientHost* host, PoolOptions options);
  ~Pool();

  // Callers (the engine) never acquire for an account that is being
  // removed; the config is shared so a late lease can never dangle.
  void acquire(AccountConfigPtr cfg, std::shared_ptr<TlsContext> tls, Lease lease);
  // Returns a connection; a broken one (healthy=false) is closed.
  void release(PoolConnection* conn, bool healthy);
  // Closes every connection of the account (on removal, or a reset).
  void dropAccount(const std::string& accountId);
  PoolStats stats(const std::string& accountId = {}) const;
  size_t limitFor(const std::string& accountId) const;
  // The accounts whose stats() changed since the last call.
  std::set<std::string> takeChanged() {
    std::set<std::string> c;
    c.swap(changed_);
    return c;
  }

 private:
  friend class PoolConnection;
  struct Waiter {
    AccountConfigPtr cfg;
    std::shared_ptr<TlsContext> tls;
    Lease lease;
    uint64_t since;
  };
  struct AccountPool {
    std::vector<std::unique_ptr<PoolConnection>> conns;
    std::deque<Waiter> waiting;
    size_t limit = 0;
    PoolStats stats;
  };

  void connectionReady(PoolConnection* c);
  void connectionFailed(PoolConnection* c, const std::string& code, const std::string& message);
  void serve(const std::string& accountId);
  // Serves the accounts waiting for room under maxTotal, oldest first.
  void serveStarved();
  // Closes the least recently used idle connection of another account to
  // make room under maxTotal; false when every connection is busy.
  bool evictIdle(const std::string& except);
  // The least recently used idle connection outside account `except`.
  std::pair<AccountPool*, PoolConnection*> oldestIdle(const std::string& except);
  bool othersStarved(const std::string& accountId) const;
  void hand(AccountPool& ap, PoolConnection* c, Waiter w, bool reused);
  void healthCheck(AccountPool& ap, PoolConnection* c, Waiter w);
  void discard(AccountPool& ap, PoolConnection* c);
  size_t totalOpen() const { return open_; }
  uint64_t now() const;
  static void onSweep(uv_timer_t* t);
  void sweep();

  ClientHost* host_;
  PoolOptions opts_;
  std::map<std::string, AccountPool> accounts_;
  std::vector<std::unique_ptr<PoolConnection>> graveyard_;  // freed on the next sweep
  uv_timer_t* sweepTimer_ = nullptr;
  std::set<std::string> changed_;
  size_t open_ = 0;  // connections in every account's conns
  // Accounts with waiters that maxTotal keeps from opening a connection:
  // served in this order when room frees, so no account starves another.
  std::deque<std::string> starved_;
};

}  // namespace imap
