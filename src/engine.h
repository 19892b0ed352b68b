// The engine: one thread, one uv loop of its own, every connection of every
// account multiplexed on it. Other threads talk to it only through post()
// (a mutex-guarded queue plus uv_async_send) and read status snapshots.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "account.h"
#include "events.h"
#include "folder.h"
#include "idle.h"
#include "token.h"

namespace imap {

struct EngineConfig {
  uint64_t tokenRefreshBeforeMs = 5 * 60 * 1000;
};

class Engine : private SessionOwner {
 public:
  // Called on the engine thread with each batch of events, in order. Never
  // called after the Closed event or after shutdownNow() returns.
  using Sink = std::function<void(std::vector<Event>&&)>;

  Engine(EngineConfig config, Sink sink);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // All thread-safe; results arrive as events.
  void addAccount(AccountConfig cfg);    // -> AccountReady | AccountFailed
  void removeAccount(std::string id);    // -> AccountRemoved
  void close();                          // logs out everything -> Closed, then the loop ends
  // The app's answer to a TokenRequest event.
  void provideToken(std::string accountId, std::string token, double expiresAtMs, std::string error);

  // Stops at once (no LOGOUT), joins the thread. Idempotent; safe after close().
  void shutdownNow();
  // Waits for the thread after the Closed event. Idempotent.
  void join();
  // uv_loop_close() returned 0 (valid after join).
  bool loopClosedCleanly() const { return loopClosedOk_; }

  std::vector<FolderStatus> status(const std::string& accountId = {}) const;

 private:
  struct Account {
    AccountConfig cfg;
    std::vector<std::unique_ptr<FolderRuntime>> folders;
    std::vector<std::unique_ptr<IdleSession>> sessions;
    size_t ready = 0;
    size_t closed = 0;
    bool running = false;   // AccountReady sent
    bool removing = false;
    bool failed = false;    // AccountFailed sent: no AccountRemoved follows
  };

  bool post(std::function<void()> fn);
  void run();
  static void onAsync(uv_async_t* h);
  static void onCheck(uv_check_t* h);
  void drainCommands();
  void flushEvents();

  void doAdd(AccountConfig cfg);
  void doRemove(const std::string& id);
  void doClose();
  void beginRemove(Account& a);
  void reapFinished();
  void stopLoop();

  Account* find(const std::string& id);
  Account* ownerOf(const IdleSession& s);

  // SessionOwner
  LoopShared* shared() override { return &shared_; }
  void accessToken(const AccountConfig& cfg, bool force,
                   std::function<void(const std::string&, const std::string&)> done) override;
  void emit(Event&& e) override { pending_.push_back(std::move(e)); }
  void statusChanged(const IdleSession& s) override;
  void sessionReady(IdleSession& s) override;
  void sessionFirstFailure(IdleSession& s, const std::string& code, const std::string& message) override;
  void sessionClosed(IdleSession& s) override;

  EngineConfig config_;
  Sink sink_;
  uv_loop_t loop_;
  uv_async_t async_;
  uv_check_t check_;
  LoopShared shared_;
  std::thread thread_;
  bool loopClosedOk_ = false;

  std::mutex queueMu_;
  std::vector<std::function<void()>> queue_;
  bool accepting_ = true;

  // Loop-thread state.
  std::map<std::string, std::unique_ptr<Account>> accounts_;
  std::vector<std::string> finished_;  // accounts whose sessions all closed
  std::vector<Event> pending_;
  TokenBroker tokens_;
  bool closing_ = false;
  bool stopped_ = false;

  mutable std::mutex statusMu_;
  std::map<std::pair<std::string, std::string>, FolderStatus> status_;
};

}  // namespace imap
