// The loop and its thread, the command queue, event batches and the state
// that follows them. Accounts, sync scheduling and enrichment live in
// engine_accounts.cpp, engine_sync.cpp and engine_enrich.cpp.
#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <future>

#include "store/state_codec.h"
#include "store/state_writer.h"

namespace imap {

const char* stateName(ConnState s) {
  switch (s) {
    case ConnState::Disconnected: return "disconnected";
    case ConnState::Connecting: return "connecting";
    case ConnState::Connected: return "connected";
    case ConnState::Authenticating: return "authenticating";
    case ConnState::Authenticated: return "authenticated";
    case ConnState::Idle: return "idle";
    case ConnState::Error: return "error";
  }
  return "error";
}

std::unique_ptr<EngineApi> makeEngine(EngineConfig config, EngineApi::Sink sink) {
  return std::make_unique<Engine>(std::move(config), std::move(sink));
}

Engine::Engine(EngineConfig config, Sink sink)
    : config_(std::move(config)),
      sink_(std::move(sink)),
      tokens_(
          [this](const std::string& accountId) {
            Event e = Event::of(Event::Type::TokenRequest, accountId);
            emit(std::move(e));
          },
          config_.tokenRefreshBeforeMs) {
  if (config_.syncMaxConcurrent == 0) config_.syncMaxConcurrent = 1;
  uv_loop_init(&loop_);
  shared_.loop = &loop_;
  uv_async_init(&loop_, &async_, onAsync);
  async_.data = this;
  uv_check_init(&loop_, &check_);
  check_.data = this;
  uv_check_start(&check_, onCheck);
  uv_timer_init(&loop_, &persistTimer_);
  uv_unref(reinterpret_cast<uv_handle_t*>(&persistTimer_));
  pool_ = std::make_unique<Pool>(static_cast<ClientHost*>(this), config_.pool);
  if (!config_.stateFile.empty()) writer_ = StateWriter::open(config_.stateFile, startError_);
  thread_ = std::thread([this] { run(); });
  if (!startError_.empty()) shutdownNow();
}

Engine::~Engine() { shutdownNow(); }

void Engine::run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&loop_);
  // Clean means nothing was left open: the fallback below would hide a leak.
  loopClosedOk_ = rc == 0;
  if (rc == UV_EBUSY) {
    // Something is still open: close it, let the close callbacks run, retry.
    uv_walk(&loop_, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    rc = uv_loop_close(&loop_);
  }
  if (closedGracefully_) {
    // Last, from outside the loop: whoever receives it may join this thread
    // at once, with nothing left to wait for.
    EventBatch last;
    last.events.push_back(Event::of(Event::Type::Closed, {}));
    last.seq = ++batchSeq_;
    sink_(std::move(last));
  }
}

bool Engine::post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(queueMu_);
  if (!accepting_) return false;
  queue_.push_back(std::move(fn));
  uv_async_send(&async_);
  return true;
}

long Engine::loopHandles() {
  auto answer = std::make_shared<std::promise<long>>();
  std::future<long> count = answer->get_future();
  bool posted = post([this, answer] {
    long n = 0;
    uv_walk(&loop_, [](uv_handle_t* h, void* arg) { if (!uv_is_closing(h)) ++*static_cast<long*>(arg); }, &n);
    answer->set_value(n);
  });
  if (!posted || count.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return -1;
  try {
    return count.get();
  } catch (const std::future_error&) {  // the loop ended with the command still queued
    return -1;
  }
}

void Engine::onAsync(uv_async_t* h) { static_cast<Engine*>(h->data)->drainCommands(); }

void Engine::drainCommands() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(queueMu_);
    batch.swap(queue_);
  }
  for (auto& fn : batch) {
    if (stopped_) return;
    fn();
  }
}

void Engine::onCheck(uv_check_t* h) {
  auto* self = static_cast<Engine*>(h->data);
  self->reapFinished();
  if (self->stopped_) return;
  self->flushEvents();
  self->publishStats();
}

void Engine::flushEvents() {
  std::vector<StoredFolder> rows;
  // Serialising state on every loop pass of a large fetch cost ~40 % of the
  // engine's CPU; while events flow it is done at most every kPersistEveryMs.
  // Skipping only delays the write: the state stays dirty and goes with a
  // later batch, never ahead of its events.
  constexpr uint64_t kPersistEveryMs = 250;
  if (writer_ && (pending_.empty() || nowMs() - lastCollectMs_ >= kPersistEveryMs)) {
    collectDirty(rows);
    lastCollectMs_ = nowMs();
  } else if (writer_ && !uv_is_active(reinterpret_cast<uv_handle_t*>(&persistTimer_))) {
    // Wake the loop once more after the burst, so the last state is written.
    uv_timer_start(&persistTimer_, [](uv_timer_t*) {}, kPersistEveryMs, 0);
  }
  if (pending_.empty()) {
    saveAfterAcks(std::move(rows));
    return;
  }
  EventBatch batch;
  batch.events.swap(pending_);
  // A burst (a catch-up, an initial sync) brings ~100 events per loop pass;
  // growing the vector again each pass moved every Event several times.
  constexpr size_t kReserveEvents = 512;
  pending_.reserve(std::min(batch.events.size(), kReserveEvents));
  batch.seq = ++batchSeq_;
  // State advances on disk only once JS has the events behind it: a crash
  // may repeat an event, never skip one.
  saveAfterAcks(std::move(rows));
  inFlight_.emplace_back(batch.seq, batch.events.size());
  inFlightEvents_ += batch.events.size();
  if (inFlightEvents_ >= config_.maxQueuedEvents) shared_.pauseReads();
  sink_(std::move(batch));
}

// Rows collected while no event is pending still describe events that may
// be in flight to JS (an earlier batch): they wait for the newest batch.
void Engine::saveAfterAcks(std::vector<StoredFolder> rows) {
  if (!writer_ || rows.empty()) return;
  if (ackedSeq_ >= batchSeq_) {
    writer_->save(std::move(rows));
    return;
  }
  auto& waiting = unsaved_[batchSeq_];
  for (auto& r : rows) waiting.push_back(std::move(r));
}

void Engine::delivered(uint64_t seq) {
  post([this, seq] {
    ackedSeq_ = std::max(ackedSeq_, seq);
    while (!inFlight_.empty() && inFlight_.front().first <= seq) {
      inFlightEvents_ -= inFlight_.front().second;
      inFlight_.pop_front();
    }
    if (shared_.readsPaused && inFlightEvents_ <= config_.maxQueuedEvents / 2) shared_.resumeReads();
    std::vector<StoredFolder> rows;
    while (!unsaved_.empty() && unsaved_.begin()->first <= seq) {
      for (auto& r : unsaved_.begin()->second) rows.push_back(std::move(r));
      unsaved_.erase(unsaved_.begin());
    }
    if (writer_) writer_->save(std::move(rows));
    maybeFinishClose();
  });
}

void Engine::collectDirty(Account& a, std::vector<StoredFolder>& rows) {
  // Held newMessage events have advanced UIDNEXT but are not in JS yet.
  if (a.hasHeld()) return;
  for (auto& rt : a.folders) {
    if (!rt->dirty) continue;
    rt->dirty = false;
    if (rt->fs.uidValidity == 0) continue;
    rows.push_back(folderRow(*rt));
  }
}

void Engine::collectDirty(std::vector<StoredFolder>& rows) {
  if (!writer_) return;  // state lives in memory: nothing to write, no walk per loop pass
  for (auto& [id, a] : accounts_) collectDirty(*a, rows);
}

// Runs every loop pass, so it only touches the accounts whose pool changed:
// a sync must not cost more the more accounts there are.
void Engine::publishStats() {
  std::set<std::string> changed = pool_->takeChanged();
  if (changed.empty()) return;
  std::lock_guard<std::mutex> lock(statusMu_);
  for (const auto& id : changed) {
    if (accounts_.count(id)) poolStats_[id] = pool_->stats(id);
    else poolStats_.erase(id);
  }
}

// ---- public, thread-safe ----

void Engine::addAccount(AccountConfig cfg) {
  auto shared = std::make_shared<AccountConfig>(std::move(cfg));
  post([this, shared] { doAdd(std::move(*shared)); });
}

void Engine::removeAccount(std::string id) {
  post([this, id] { doRemove(id); });
}

void Engine::close() {
  post([this] { doClose(); });
}

void Engine::provideToken(std::string accountId, std::string token, double expiresAtMs, std::string error) {
  post([this, accountId = std::move(accountId), token = std::move(token), expiresAtMs, error = std::move(error)] {
    tokens_.provide(accountId, token, expiresAtMs, error);
  });
}

void Engine::sync(uint64_t requestId, std::string accountId, std::vector<std::string> folders) {
  post([this, requestId, accountId = std::move(accountId), folders = std::move(folders)] {
    Account* a = find(accountId);
    if (!a || a->removing) {
      Event e = Event::of(Event::Type::SyncCompleted, accountId);
      e.requestIds = {requestId};
      e.errorCode = "UNKNOWN_ACCOUNT";
      e.errorMessage = "no account " + accountId;
      emit(std::move(e));
      return;
    }
    requestSync(*a, std::set<std::string>(folders.begin(), folders.end()), {requestId});
  });
}

void Engine::shutdownNow() {
  post([this] { stopLoop(); });
  join();
}

void Engine::join() {
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::vector<FolderStatus> Engine::status(const std::string& accountId) const {
  std::lock_guard<std::mutex> lock(statusMu_);
  std::vector<FolderStatus> out;
  for (const auto& [key, st] : status_)
    if (accountId.empty() || key.first == accountId) out.push_back(st);
  return out;
}

PoolStats Engine::poolStats(const std::string& accountId) const {
  std::lock_guard<std::mutex> lock(statusMu_);
  PoolStats total;
  for (const auto& [id, st] : poolStats_) {
    if (!accountId.empty() && id != accountId) continue;
    total.open += st.open;
    total.busy += st.busy;
    total.idle += st.idle;
    total.created += st.created;
    total.reused += st.reused;
    total.healthChecks += st.healthChecks;
    total.failures += st.failures;
    total.waitTimeMs += st.waitTimeMs;
  }
  return total;
}

SyncStats Engine::syncStats() const {
  std::lock_guard<std::mutex> lock(statusMu_);
  return syncStats_;
}

Engine::Account* Engine::find(const std::string& id) {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : it->second.get();
}

Engine::AccountRef Engine::refOf(const std::string& id) {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? AccountRef() : AccountRef(it->second);
}

Engine::Account* Engine::ownerOf(const IdleSession& s) { return find(s.config().id); }

void Engine::accessToken(const AccountConfig& cfg, bool force,
                         std::function<void(const std::string&, const std::string&)> done) {
  double now = static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  tokens_.get(cfg.id, force, now, std::move(done));
}

// ---- shutdown ----

void Engine::doClose() {
  if (closing_) return;
  closing_ = true;
  for (auto& [id, a] : accounts_) beginRemove(*a);
  maybeFinishClose();
}

// A graceful close ends once every account logged out and JS acknowledged
// every batch: only then is all the state behind them safe to save.
void Engine::maybeFinishClose() {
  if (!closing_ || stopped_ || !accounts_.empty()) return;
  flushEvents();
  if (ackedSeq_ < batchSeq_) return;  // delivered() calls again
  closedGracefully_ = true;
  stopLoop();
}

void Engine::stopLoop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(queueMu_);
    accepting_ = false;
    queue_.clear();
  }
  // What JS acknowledged is saved (delivered() already queued it); the rest
  // waits for events JS never got and is dropped with them.
  for (auto& [id, a] : accounts_) closeAccountHandles(*a);
  accounts_.clear();  // sessions close their handles
  pool_.reset();
  pending_.clear();
  writer_.reset();  // writes what is queued, on this thread, never on JS's
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&persistTimer_), nullptr);
}

}  // namespace imap
