// The account registry: adding (with its state from the file), removal,
// and what the IDLE sessions report about their account.
#include "engine/engine.h"

#include "store/state_codec.h"
#include "store/state_writer.h"

namespace imap {

Event Engine::Account::popHeld() {
  Event e = std::move(held[heldHead++]);
  // Reclaimed once drained, or once the read part dominates: O(1) amortised
  // per event however long a catch-up's queue gets.
  if (heldHead == held.size()) {
    held.clear();
    heldHead = 0;
  } else if (heldHead >= 64 && heldHead * 2 >= held.size()) {
    held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(heldHead));
    heldHead = 0;
  }
  return e;
}

void Engine::lease(Account& a, Pool::Lease done) {
  if (a.removing || stopped_) return done(nullptr, "CLOSED", "account removed");
  pool_->acquire(a.cfg, a.tls, std::move(done));
}

void Engine::doAdd(AccountConfig cfg) {
  auto failNow = [this, &cfg](const std::string& code, const std::string& message) {
    Event e = Event::of(Event::Type::AccountFailed, cfg.id);
    e.errorCode = code;
    e.errorMessage = message;
    emit(std::move(e));
  };
  if (closing_) return failNow("CLOSED", "engine is closing");
  if (find(cfg.id)) return failNow("ACCOUNT_EXISTS", "account " + cfg.id + " is already added");
  std::shared_ptr<TlsContext> tls;
  if (cfg.tls != TlsMode::None) {
    std::string err;
    tls = TlsContext::create(cfg.tlsOptions, err);
    if (!tls) return failNow("TLS_FAILED", "invalid TLS options: " + err);
  }
  // The context holds the CA now; a bundle copied per account would cost
  // its whole size (hundreds of KiB) times the accounts.
  std::string().swap(cfg.tlsOptions.caPem);
  auto added = std::make_shared<Account>();
  added->cfg = std::make_shared<const AccountConfig>(std::move(cfg));
  added->tls = tls;
  Account& a = *added;
  const std::string& id = a.cfg->id;
  accounts_[id] = added;
  for (const auto& folder : a.cfg->folders) {
    auto rt = std::make_unique<FolderRuntime>();
    rt->accountId = id;
    rt->folder = folder;
    a.folders.push_back(std::move(rt));
  }
  if (!writer_) return startSessions(a);
  // The file is read on the writer's thread; the sessions start when the
  // state is back, unless the account was removed meanwhile.
  a.loading = true;
  AccountRef ref = added;
  writer_->load(id, [this, ref](std::vector<StoredFolder> rows, std::string) {
    post([this, ref, rows = std::move(rows)] {
      auto acc = ref.lock();
      if (!acc || !acc->loading) return;
      acc->loading = false;
      if (acc->removing) {
        finished_.push_back(acc->cfg->id);
        return;
      }
      for (const auto& row : rows)
        for (auto& rt : acc->folders)
          if (rt->folder == row.folder) applyRow(row, *rt);
      startSessions(*acc);
    });
  });
}

void Engine::startSessions(Account& a) {
  for (auto& rt : a.folders)
    a.sessions.push_back(std::make_unique<IdleSession>(static_cast<SessionOwner*>(this), a.cfg, a.tls, rt.get()));
  for (auto& s : a.sessions) statusChanged(*s);
  for (size_t i = 0; i < a.sessions.size() && !a.removing; ++i) a.sessions[i]->start();
}

void Engine::doRemove(const std::string& id) {
  Account* a = find(id);
  if (!a) {
    Event e = Event::of(Event::Type::AccountRemoved, id);
    emit(std::move(e));
    return;
  }
  beginRemove(*a);
}

void Engine::beginRemove(Account& a) {
  if (a.removing) return;
  a.removing = true;
  closeAccountHandles(a);
  cancelEnrichment(a);
  dropPendingSync(a);
  pool_->dropAccount(a.cfg->id);
  if (a.loading) return;  // reaped when its state arrives
  for (auto& s : a.sessions) s->close();
  if (a.sessions.empty() && !a.syncing) finished_.push_back(a.cfg->id);
}

Engine::DebounceTimer* Engine::makeTimer(Account& a) {
  auto* t = new DebounceTimer{{}, this, a.cfg->id};
  uv_timer_init(&loop_, &t->handle);
  t->handle.data = t;
  return t;
}

void Engine::closeAccountHandles(Account& a) {
  for (DebounceTimer** t : {&a.debounce, &a.countsTimer}) {
    if (!*t) continue;
    (*t)->engine = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&(*t)->handle),
             [](uv_handle_t* h) { delete reinterpret_cast<DebounceTimer*>(h->data); });
    *t = nullptr;
  }
}

void Engine::reapFinished() {
  if (finished_.empty()) return;
  std::vector<std::string> done;
  done.swap(finished_);
  std::vector<StoredFolder> rows;
  for (const auto& id : done) {
    auto it = accounts_.find(id);
    if (it == accounts_.end()) continue;
    std::shared_ptr<Account> a = std::move(it->second);
    accounts_.erase(it);
    tokens_.forget(id);
    // Its last changes go with the events that reported them.
    if (writer_) collectDirty(*a, rows);
    {
      std::lock_guard<std::mutex> lock(statusMu_);
      for (auto st = status_.begin(); st != status_.end();)
        st = st->first.first == id ? status_.erase(st) : std::next(st);
      poolStats_.erase(id);
    }
    if (!a->failed && !closing_) {
      Event e = Event::of(Event::Type::AccountRemoved, id);
      emit(std::move(e));
    }
  }
  if (!rows.empty()) {
    // Into the batch that carries the AccountRemoved events, if any.
    flushEvents();
    saveAfterAcks(std::move(rows));
  }
  maybeFinishClose();
}

// ---- session callbacks ----

void Engine::statusChanged(const IdleSession& s) {
  FolderStatus snap = s.snapshot();
  if (!snap.lastErrorCode.empty() && (s.state() == ConnState::Disconnected || s.state() == ConnState::Error)) {
    if (Account* a = find(snap.accountId)) a->folderCacheValid = false;  // a reset may mean a changed server
  }
  std::lock_guard<std::mutex> lock(statusMu_);
  status_[{snap.accountId, snap.folder}] = std::move(snap);
}

void Engine::sessionReady(IdleSession& s) {
  Account* a = ownerOf(s);
  if (!a || a->removing) return;
  if (++a->ready == a->sessions.size() && !a->running) {
    a->running = true;
    Event e = Event::of(Event::Type::AccountReady, a->cfg->id);
    emit(std::move(e));
    // A first sync builds what deletion detection needs without QRESYNC,
    // and reports what changed while the app was not running (state file).
    // A QRESYNC server with nothing remembered needs neither, which spares
    // a second connection per account.
    bool needed = false;
    for (size_t i = 0; i < a->sessions.size(); ++i)
      needed = needed || !a->sessions[i]->hasCap("QRESYNC") || a->folders[i]->fromStore ||
               (config_.sync.initialLast > 0 && !a->folders[i]->initialDone);
    if (needed) requestSync(*a, {}, {});
  }
}

void Engine::sessionFirstFailure(IdleSession& s, const std::string& code, const std::string& message) {
  Account* a = ownerOf(s);
  if (!a || a->removing) return;
  // addAccount() rejects: the account is dropped rather than left retrying
  // behind a promise the caller already saw fail.
  a->failed = true;
  Event e = Event::of(Event::Type::AccountFailed, a->cfg->id, s.folder());
  e.errorCode = code;
  e.errorMessage = message;
  emit(std::move(e));
  beginRemove(*a);
}

void Engine::sessionClosed(IdleSession& s) {
  Account* a = ownerOf(s);
  if (!a) return;
  if (++a->closed == a->sessions.size() && !a->syncing) finished_.push_back(a->cfg->id);
}

}  // namespace imap
