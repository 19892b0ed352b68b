// What the binding sees of the engine: no libuv, no sessions, no pool. The
// engine behind it (engine/engine.h) runs its own uv loop on its own thread;
// every call here is thread-safe and answers, where it answers, as events.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/account.h"
#include "model/actions.h"
#include "model/engine_options.h"
#include "model/events.h"

namespace imap {

class EngineApi {
 public:
  // Called on the engine thread with each batch, in order. The Closed
  // batch comes last, after the loop has ended (and the state file is
  // written and closed); nothing is called after shutdownNow() returns.
  using Sink = std::function<void(EventBatch&&)>;

  virtual ~EngineApi() = default;
  // Non-empty when the engine could not start (e.g. the state file).
  virtual const std::string& startError() const = 0;

  // All thread-safe; results arrive as events.
  virtual void addAccount(AccountConfig cfg) = 0;  // -> AccountReady | AccountFailed
  // -> AccountRemoved. Sync requests still queued for it are not answered.
  virtual void removeAccount(std::string id) = 0;
  // Logs out everything, waits until JS has every event, saves the state
  // behind them -> Closed, then the thread ends.
  virtual void close() = 0;
  virtual void provideToken(std::string accountId, std::string token, double expiresAtMs, std::string error) = 0;
  // -> SyncCompleted with this requestId. Empty folders: all watched folders.
  virtual void sync(uint64_t requestId, std::string accountId, std::vector<std::string> folders) = 0;
  // -> FolderList with this requestId.
  virtual void listFolders(uint64_t requestId, std::string accountId, bool refresh) = 0;
  // -> MessageFetched with this requestId.
  virtual void fetchMessage(uint64_t requestId, std::string accountId, std::string folder, uint32_t uid, uint64_t maxBytes) = 0;
  // -> ActionDone with this requestId. A flag change whose connection is
  // lost is retried once on a new one (it is idempotent); a deletion is not.
  virtual void storeFlags(uint64_t requestId, std::string accountId, StoreRequest req) = 0;
  virtual void deleteMessages(uint64_t requestId, std::string accountId, std::string folder, std::string uids) = 0;
  // A copy or move is not retried (it would duplicate); a search is.
  virtual void copyMessages(uint64_t requestId, std::string accountId, CopyRequest req) = 0;
  virtual void searchMessages(uint64_t requestId, std::string accountId, SearchRequest req) = 0;
  // Not retried: an APPEND, CREATE or DELETE that may have happened must not
  // happen twice. SUBSCRIBE/UNSUBSCRIBE and quota are, being idempotent.
  virtual void appendMessage(uint64_t requestId, std::string accountId, AppendRequest req) = 0;
  virtual void folderCommand(uint64_t requestId, std::string accountId, FolderRequest req) = 0;
  virtual void getQuota(uint64_t requestId, std::string accountId, std::string folder) = 0;
  // -> MessageListed per message, then ActionDone. Retried once when its
  // connection is lost (lib/ keeps one answer per UID).
  virtual void listMessages(uint64_t requestId, std::string accountId, ListRequest req) = 0;
  virtual void downloadPart(uint64_t requestId, std::string accountId, PartRequest req) = 0;
  // Every event of batch `seq` reached JS: the state behind it may persist.
  virtual void delivered(uint64_t seq) = 0;

  // Stops at once (no LOGOUT, unacknowledged state dropped), joins the
  // thread. Idempotent; safe after close().
  virtual void shutdownNow() = 0;
  // Waits for the thread after the Closed event. Idempotent.
  virtual void join() = 0;
  // uv_loop_close() returned 0 (valid after join).
  virtual bool loopClosedCleanly() const = 0;

  virtual std::vector<FolderStatus> status(const std::string& accountId = {}) const = 0;
  virtual PoolStats poolStats(const std::string& accountId = {}) const = 0;
  virtual SyncStats syncStats() const = 0;
  // Open (not closing) uv handles on the engine's loop, counted on the loop
  // thread: what the leak checks compare across churn. Blocks the caller
  // until the loop answers; -1 once the engine is closed, or after 5 s.
  virtual long loopHandles() = 0;
};

// Starts the engine's thread. A failed start (e.g. an unusable state file)
// still returns an engine, whose startError() says why.
std::unique_ptr<EngineApi> makeEngine(EngineConfig config, EngineApi::Sink sink);

}  // namespace imap
