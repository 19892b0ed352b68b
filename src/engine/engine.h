// The engine: one thread, one uv loop of its own, every connection of every
// account multiplexed on it. Other threads talk to it only through post()
// (a mutex-guarded queue plus uv_async_send) and read status snapshots.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/api.h"
#include "model/account.h"
#include "model/events.h"
#include "sync/folder.h"
#include "sync/idle.h"
#include "imap/actions.h"
#include "imap/mailboxes.h"
#include "imap/message_fetch.h"
#include "sync/pool.h"
#include "store/store.h"
#include "sync/sync.h"
#include "imap/token.h"

namespace imap {

class StateWriter;

// Ownership (all on the loop thread unless said otherwise):
// - accounts_ owns each Account (shared_ptr); callbacks that may run after
//   a removal hold a weak_ptr and find it expired. An Account owns its
//   FolderRuntimes, IdleSessions, FolderSync and debounce timers.
// - An account's config is shared (AccountConfigPtr) with every client and
//   pool waiter made for it, so none of them can read freed memory.
// - pool_ owns pooled connections; writer_ owns the state file and its
//   thread. Other threads only post() commands and read snapshots under
//   statusMu_.
class Engine : public EngineApi, private SessionOwner {
 public:
  Engine(EngineConfig config, Sink sink);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  // EngineApi: engine/api.h says what each does.
  const std::string& startError() const override { return startError_; }
  void addAccount(AccountConfig cfg) override;  // -> AccountReady | AccountFailed
  void removeAccount(std::string id) override;
  void close() override;
  void provideToken(std::string accountId, std::string token, double expiresAtMs, std::string error) override;
  void sync(uint64_t requestId, std::string accountId, std::vector<std::string> folders) override;
  void listFolders(uint64_t requestId, std::string accountId, bool refresh) override;
  void fetchMessage(uint64_t requestId, std::string accountId, std::string folder, uint32_t uid, uint64_t maxBytes) override;
  void delivered(uint64_t seq) override;
  void storeFlags(uint64_t requestId, std::string accountId, StoreRequest req) override;
  void deleteMessages(uint64_t requestId, std::string accountId, std::string folder, std::string uids) override;
  void copyMessages(uint64_t requestId, std::string accountId, CopyRequest req) override;
  void searchMessages(uint64_t requestId, std::string accountId, SearchRequest req) override;
  void appendMessage(uint64_t requestId, std::string accountId, AppendRequest req) override;
  void folderCommand(uint64_t requestId, std::string accountId, FolderRequest req) override;
  void getQuota(uint64_t requestId, std::string accountId, std::string folder) override;
  void listMessages(uint64_t requestId, std::string accountId, ListRequest req) override;
  void downloadPart(uint64_t requestId, std::string accountId, PartRequest req) override;
  void folderStatus(uint64_t requestId, std::string accountId, std::string folder) override;
  void shutdownNow() override;
  void join() override;
  bool loopClosedCleanly() const override { return loopClosedOk_; }
  std::vector<FolderStatus> status(const std::string& accountId = {}) const override;
  PoolStats poolStats(const std::string& accountId = {}) const override;
  SyncStats syncStats() const override;
  long loopHandles() override;

 private:
  struct SyncRun {
    std::set<std::string> folders;  // empty: all
    std::vector<uint64_t> requestIds;
  };
  struct Account;
  using AccountRef = std::weak_ptr<Account>;
  struct DebounceTimer {
    uv_timer_t handle;
    Engine* engine;
    std::string accountId;
  };
  struct Account {
    AccountConfigPtr cfg;
    std::shared_ptr<TlsContext> tls;
    std::vector<std::unique_ptr<FolderRuntime>> folders;
    std::vector<std::unique_ptr<IdleSession>> sessions;
    size_t ready = 0;
    size_t closed = 0;
    bool loading = false;   // waiting for its state from the file
    bool running = false;   // AccountReady sent
    bool removing = false;
    bool failed = false;    // AccountFailed sent: no AccountRemoved follows

    // Sync: one run at a time; requests meanwhile merge into the next run.
    bool syncing = false;
    bool queued = false;    // in syncQueue_
    std::optional<SyncRun> next;
    DebounceTimer* debounce = nullptr;
    std::set<std::string> debounced;
    std::unique_ptr<FolderSync> folderSync;
    std::vector<FolderSyncResult> results;
    std::vector<uint64_t> syncRequestIds_;
    uint64_t syncStartedAt = 0;

    // newMessage events held for a preview or body, released in order. A
    // vector read from heldHead (an empty deque costs ~700 B, per account).
    std::vector<Event> held;
    size_t heldHead = 0;
    bool enriching = false;
    uint64_t enrichGen = 0;  // engine-wide numbers; a stale answer never matches

    std::vector<FolderInfo> folderCache;
    uint64_t folderCacheAt = 0;
    bool folderCacheValid = false;

    // folderChanged (engine_counts.cpp): watched folders whose counts may
    // have moved, one STATUS run at a time, and the counts last sent.
    DebounceTimer* countsTimer = nullptr;
    std::set<std::string> countsDue;
    bool countsBusy = false;
    std::map<std::string, FolderCounts> countsSent;

    bool hasHeld() const { return heldHead < held.size(); }
    Event popHeld();
  };

  bool post(std::function<void()> fn);
  void run();
  static void onAsync(uv_async_t* h);
  static void onCheck(uv_check_t* h);
  void drainCommands();
  void flushEvents();

  void doAdd(AccountConfig cfg);
  void startSessions(Account& a);
  void doRemove(const std::string& id);
  void doClose();
  void beginRemove(Account& a);
  void reapFinished();
  void maybeFinishClose();
  void stopLoop();
  void closeAccountHandles(Account& a);
  DebounceTimer* makeTimer(Account& a);
  // Leases a pooled connection, refused once the account is being removed.
  void lease(Account& a, Pool::Lease done);

  // Sync.
  void requestSync(Account& a, std::set<std::string> folders, std::vector<uint64_t> requestIds);
  void pumpSyncs();
  void startSync(Account& a);
  void syncNextFolder(Account& a, PoolConnection* conn, std::vector<FolderRuntime*> todo, size_t index);
  void finishSync(Account& a, PoolConnection* conn, bool healthy, const std::string& code, const std::string& message);
  void dropPendingSync(Account& a);
  static void onDebounce(uv_timer_t* t);
  void publishSyncStats();

  // Persistence: rows go out only once JS has every batch sent so far.
  void collectDirty(Account& a, std::vector<StoredFolder>& rows);
  void collectDirty(std::vector<StoredFolder>& rows);
  void saveAfterAcks(std::vector<StoredFolder> rows);

  Account* find(const std::string& id);
  AccountRef refOf(const std::string& id);
  Account* ownerOf(const IdleSession& s);
  uint64_t nowMs() const { return uv_now(const_cast<uv_loop_t*>(&loop_)); }
  void publishStats();

  // SessionOwner
  LoopShared* shared() override { return &shared_; }
  void accessToken(const AccountConfig& cfg, bool force,
                   std::function<void(const std::string&, const std::string&)> done) override;
  void emit(Event&& e) override;
  // Mailbox actions (engine_actions.cpp): `job` runs on a leased connection;
  // when the connection is lost an idempotent job gets one more.
  using ActionJob = std::function<void(PoolConnection*, std::function<void(ActionOutcome)>)>;
  void runAction(uint64_t requestId, const std::string& accountId, const std::string& folder, bool idempotent, ActionJob job,
                 bool retried = false);
  // runAction on the loop thread: what every public action method does with its job.
  void postAction(uint64_t requestId, std::string accountId, std::string folder, bool idempotent, ActionJob job);
  // folderChanged (engine_counts.cpp).
  void noteCountsChange(const Event& e);
  void armCounts(Account& a);
  static void onCountsTimer(uv_timer_t* t);
  void checkCounts(Account& a);
  void checkNextCounts(Account& a, PoolConnection* conn, std::vector<std::string> todo, size_t index);
  void countsDone(Account& a);
  // Enrichment (engine_enrich.cpp).
  void enrichNext(Account& a);
  void enrich(Account& a, PoolConnection* conn);
  void cancelEnrichment(Account& a);
  // Parses on the libuv threadpool, then `done` on the loop thread.
  void parseAsync(std::string raw, uint64_t maxBytes, std::function<void(std::shared_ptr<ParsedMessage>)> done);
  void statusChanged(const IdleSession& s) override;
  void sessionReady(IdleSession& s) override;
  void sessionFirstFailure(IdleSession& s, const std::string& code, const std::string& message) override;
  void sessionClosed(IdleSession& s) override;
  void folderNeedsSync(IdleSession& s) override;

  EngineConfig config_;
  Sink sink_;
  std::string startError_;
  uv_loop_t loop_;
  uv_async_t async_;
  uv_check_t check_;
  uv_timer_t persistTimer_;
  uint64_t lastCollectMs_ = 0;
  LoopShared shared_;
  std::thread thread_;
  bool loopClosedOk_ = false;

  std::mutex queueMu_;
  std::vector<std::function<void()>> queue_;
  bool accepting_ = true;

  // Loop-thread state.
  std::map<std::string, std::shared_ptr<Account>> accounts_;
  std::vector<std::string> finished_;  // accounts whose sessions all closed
  std::vector<Event> pending_;
  TokenBroker tokens_;
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<StateWriter> writer_;
  uint64_t batchSeq_ = 0;
  uint64_t ackedSeq_ = 0;  // every batch up to this one reached JS
  std::deque<std::pair<uint64_t, size_t>> inFlight_;  // unacknowledged batches: seq, events
  size_t inFlightEvents_ = 0;
  std::map<uint64_t, std::vector<StoredFolder>> unsaved_;  // by the batch that must arrive first
  uint64_t enrichGen_ = 0;
  size_t syncActive_ = 0;
  size_t syncPending_ = 0;  // accounts with a next run
  std::deque<std::string> syncQueue_;
  bool closing_ = false;
  bool closedGracefully_ = false;  // the Closed batch follows the loop's end
  bool stopped_ = false;

  mutable std::mutex statusMu_;
  std::map<std::pair<std::string, std::string>, FolderStatus> status_;
  std::map<std::string, PoolStats> poolStats_;
  SyncStats syncStats_;
};

}  // namespace imap
