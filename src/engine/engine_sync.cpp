// Sync scheduling: one run per account at a time (requests meanwhile merge
// into its next run), at most syncMaxConcurrent accounts at once, queued
// first come first served whoever asked (app, IDLE debounce, first sync).
#include "engine/engine.h"

namespace imap {

void Engine::publishSyncStats() {
  std::lock_guard<std::mutex> lock(statusMu_);
  syncStats_.active = syncActive_;
  syncStats_.pending = syncPending_;
}

void Engine::requestSync(Account& a, std::set<std::string> folders, std::vector<uint64_t> requestIds) {
  if (!a.next) {
    a.next = SyncRun{std::move(folders), std::move(requestIds)};
    ++syncPending_;
  } else {
    // Merge: an empty folder set means every folder and absorbs the rest.
    if (a.next->folders.empty() || folders.empty()) a.next->folders.clear();
    else a.next->folders.insert(folders.begin(), folders.end());
    a.next->requestIds.insert(a.next->requestIds.end(), requestIds.begin(), requestIds.end());
  }
  if (!a.syncing && !a.queued) {
    a.queued = true;
    syncQueue_.push_back(a.cfg->id);
  }
  pumpSyncs();
  publishSyncStats();
}

void Engine::pumpSyncs() {
  while (syncActive_ < config_.syncMaxConcurrent && !syncQueue_.empty()) {
    Account* a = find(syncQueue_.front());
    syncQueue_.pop_front();
    if (!a) continue;
    a->queued = false;
    if (a->removing || a->syncing || !a->next) continue;
    startSync(*a);
  }
}

// A run that will never start is dropped. Its requests are not answered:
// AccountRemoved (or Closed) tells the caller they failed, and a refusal
// here would look like a sync that ran.
void Engine::dropPendingSync(Account& a) {
  if (!a.next) return;
  a.next.reset();
  --syncPending_;
  publishSyncStats();
}

void Engine::startSync(Account& a) {
  SyncRun run = std::move(*a.next);
  a.next.reset();
  --syncPending_;
  ++syncActive_;
  a.syncing = true;
  a.results.clear();
  a.syncStartedAt = nowMs();
  publishSyncStats();
  std::vector<FolderRuntime*> todo;
  if (run.folders.empty()) {
    for (auto& rt : a.folders) todo.push_back(rt.get());
  } else {
    for (const auto& name : run.folders) {
      FolderRuntime* found = nullptr;
      for (auto& rt : a.folders)
        if (rt->folder == name) found = rt.get();
      if (!found) {
        // A folder nobody watches still gets state of its own.
        auto rt = std::make_unique<FolderRuntime>();
        rt->accountId = a.cfg->id;
        rt->folder = name;
        found = rt.get();
        a.folders.push_back(std::move(rt));
      }
      todo.push_back(found);
    }
  }
  Event started;
  started.type = Event::Type::SyncStarted;
  started.accountId = a.cfg->id;
  started.total = static_cast<uint32_t>(todo.size());
  emit(std::move(started));
  // requestIds ride on the account until finishSync.
  a.results.reserve(todo.size());
  a.syncRequestIds_ = std::move(run.requestIds);
  AccountRef ref = refOf(a.cfg->id);
  lease(a, [this, ref, todo](PoolConnection* conn, const std::string& code, const std::string& message) {
    auto acc = ref.lock();
    if (!acc) {
      if (conn) pool_->release(conn, true);
      return;
    }
    if (!conn) return finishSync(*acc, nullptr, false, code, message);
    syncNextFolder(*acc, conn, todo, 0);
  });
}

void Engine::syncNextFolder(Account& a, PoolConnection* conn, std::vector<FolderRuntime*> todo, size_t index) {
  if (index == todo.size() || a.removing) {
    finishSync(a, conn, true, {}, {});
    return;
  }
  AccountRef ref = refOf(a.cfg->id);
  auto emitFn = [this](Event&& e) { emit(std::move(e)); };
  auto doneFn = [this, ref, conn, todo, index](FolderSyncResult result) {
    // The account outlives its sync (it is reaped only once no sync runs),
    // so `todo` and `conn` are still valid while it exists.
    auto acc = ref.lock();
    if (!acc) return;
    bool connectionGone = !conn->connected();
    acc->results.push_back(std::move(result));
    Event progress;
    progress.type = Event::Type::SyncProgress;
    progress.accountId = acc->cfg->id;
    progress.folder = todo[index]->folder;
    progress.done = static_cast<uint32_t>(index + 1);
    progress.total = static_cast<uint32_t>(todo.size());
    emit(std::move(progress));
    if (connectionGone) {
      const auto& last = acc->results.back();
      finishSync(*acc, conn, false, last.errorCode, last.errorMessage);
      return;
    }
    syncNextFolder(*acc, conn, todo, index + 1);
  };
  auto* fs = new FolderSync(conn, todo[index], config_.sync, emitFn, doneFn);
  a.folderSync.reset(fs);
  conn->lost = [fs](const std::string& code, const std::string& message) { fs->lost(code, message); };
  fs->start();
}

void Engine::finishSync(Account& a, PoolConnection* conn, bool healthy, const std::string& code,
                        const std::string& message) {
  if (conn) pool_->release(conn, healthy);
  a.syncing = false;
  --syncActive_;
  Event e = Event::of(Event::Type::SyncCompleted, a.cfg->id);
  e.requestIds = std::move(a.syncRequestIds_);
  a.syncRequestIds_.clear();
  e.syncResults = std::move(a.results);
  a.results.clear();
  e.durationMs = static_cast<double>(nowMs() - a.syncStartedAt);
  e.errorCode = code;
  e.errorMessage = message;
  if (code.empty()) {
    for (const auto& r : e.syncResults)
      if (!r.errorCode.empty()) {
        e.errorCode = r.errorCode;
        e.errorMessage = r.folder + ": " + r.errorMessage;
        break;
      }
  }
  emit(std::move(e));
  {
    std::lock_guard<std::mutex> lock(statusMu_);
    ++syncStats_.completed;
  }
  if (a.removing) {
    if (a.closed == a.sessions.size()) finished_.push_back(a.cfg->id);
  } else if (a.next && !a.queued) {
    // Behind everyone already waiting: a busy account cannot starve others.
    a.queued = true;
    syncQueue_.push_back(a.cfg->id);
  }
  pumpSyncs();
  publishSyncStats();
}

void Engine::folderNeedsSync(IdleSession& s) {
  Account* a = ownerOf(s);
  if (!a || a->removing || !a->running) return;
  a->debounced.insert(s.folder());
  if (!a->debounce) a->debounce = makeTimer(*a);
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&a->debounce->handle)))
    uv_timer_start(&a->debounce->handle, onDebounce, config_.syncDebounceMs, 0);
}

void Engine::onDebounce(uv_timer_t* t) {
  auto* d = static_cast<DebounceTimer*>(t->data);
  if (!d->engine) return;
  Account* a = d->engine->find(d->accountId);
  if (!a || a->removing) return;
  std::set<std::string> folders;
  folders.swap(a->debounced);
  d->engine->requestSync(*a, std::move(folders), {});
}

}  // namespace imap
