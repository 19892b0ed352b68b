#include "engine.h"

#include <algorithm>
#include <chrono>

#include "preview.h"

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

namespace {

// The flag memory, one "uid flags" line each, and the reported deletions as
// a "-gone <uid set>" line (no UID line starts with '-').
std::string serializeWindow(const FolderRuntime& rt) {
  std::string out;
  if (!rt.gone.empty()) out += "-gone " + rt.gone.toString() + "\n";
  for (const auto& [uid, flags] : rt.flagWindow) out += std::to_string(uid) + " " + flags + "\n";
  return out;
}

void parseWindow(const std::string& s, FolderRuntime& rt) {
  std::map<uint32_t, std::string>& w = rt.flagWindow;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    std::string line = s.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.rfind("-gone ", 0) == 0) {
      if (auto gone = UidSet::parse(line.substr(6))) rt.gone = *gone;
      continue;
    }
    size_t sp = line.find(' ');
    try {
      uint32_t uid = static_cast<uint32_t>(std::stoul(line.substr(0, sp)));
      w[uid] = sp == std::string::npos ? std::string() : line.substr(sp + 1);
    } catch (...) {
      continue;
    }
  }
}

}  // namespace

Engine::Engine(EngineConfig config, Sink sink)
    : config_(std::move(config)),
      sink_(std::move(sink)),
      tokens_(
          [this](const std::string& accountId) {
            Event e;
            e.type = Event::Type::TokenRequest;
            e.accountId = accountId;
            emit(std::move(e));
          },
          config_.tokenRefreshBeforeMs) {
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
  if (!config_.stateFile.empty()) store_ = StateStore::open(config_.stateFile, startError_);
  thread_ = std::thread([this] { run(); });
  if (!startError_.empty()) shutdownNow();
}

Engine::~Engine() { shutdownNow(); }

void Engine::run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&loop_);
  if (rc == UV_EBUSY) {
    // Something is still open: close it, let the close callbacks run, retry.
    uv_walk(&loop_, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    rc = uv_loop_close(&loop_);
  }
  loopClosedOk_ = rc == 0;
}

bool Engine::post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(queueMu_);
  if (!accepting_) return false;
  queue_.push_back(std::move(fn));
  uv_async_send(&async_);
  return true;
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
  if (store_ && (pending_.empty() || nowMs() - lastCollectMs_ >= kPersistEveryMs)) {
    collectDirty(rows);
    lastCollectMs_ = nowMs();
  } else if (store_ && !uv_is_active(reinterpret_cast<uv_handle_t*>(&persistTimer_))) {
    // Wake the loop once more after the burst, so the last state is written.
    uv_timer_start(&persistTimer_, [](uv_timer_t*) {}, kPersistEveryMs, 0);
  }
  if (pending_.empty()) {
    persist(rows);  // nothing to hand over first
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
  if (!rows.empty()) unsaved_[batch.seq] = std::move(rows);
  sink_(std::move(batch));
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
      Event e;
      e.type = Event::Type::SyncCompleted;
      e.accountId = accountId;
      e.requestIds = {requestId};
      e.errorCode = "UNKNOWN_ACCOUNT";
      e.errorMessage = "no account " + accountId;
      emit(std::move(e));
      return;
    }
    requestSync(*a, std::set<std::string>(folders.begin(), folders.end()), {requestId});
  });
}

void Engine::listFolders(uint64_t requestId, std::string accountId, bool refresh) {
  post([this, requestId, accountId = std::move(accountId), refresh] {
    auto answer = [this, requestId, accountId](std::vector<FolderInfo> list, const std::string& code,
                                               const std::string& message) {
      Event e;
      e.type = Event::Type::FolderList;
      e.accountId = accountId;
      e.requestId = requestId;
      e.folders = std::move(list);
      e.errorCode = code;
      e.errorMessage = message;
      emit(std::move(e));
    };
    Account* a = find(accountId);
    if (!a || a->removing) return answer({}, "UNKNOWN_ACCOUNT", "no account " + accountId);
    if (!refresh && a->folderCacheValid && nowMs() - a->folderCacheAt < config_.folderCacheTtlMs)
      return answer(a->folderCache, {}, {});
    pool_->acquire(&a->cfg, a->tls, [this, accountId, answer](PoolConnection* conn, const std::string& code,
                                                                  const std::string& message) {
      if (!conn) return answer({}, code, message);
      conn->lost = [answer](const std::string& c, const std::string& m) { answer({}, c, m); };
      imap::listFolders(conn, [this, conn, accountId, answer](std::vector<FolderInfo> list, const std::string& c,
                                                               const std::string& m) {
        pool_->release(conn, c.empty());
        if (Account* acc = find(accountId); acc && c.empty()) {
          acc->folderCache = list;
          acc->folderCacheAt = nowMs();
          acc->folderCacheValid = true;
        }
        answer(std::move(list), c, m);
      });
    });
  });
}

void Engine::emit(Event&& e) {
  if (e.type == Event::Type::NewMessage) {
    Account* a = find(e.accountId);
    if (a && (a->cfg.fetchBodies || a->cfg.previewChars > 0)) {
      a->held.push_back(std::move(e));
      enrichNext(*a);
      return;
    }
  }
  pending_.push_back(std::move(e));
}

void Engine::enrichNext(Account& a) {
  if (a.enriching || a.held.empty() || stopped_) return;
  a.enriching = true;
  std::string id = a.cfg.id;
  pool_->acquire(&a.cfg, a.tls, [this, id](PoolConnection* conn, const std::string&, const std::string&) {
    Account* acc = find(id);
    if (!acc) {
      if (conn) pool_->release(conn, true);
      return;
    }
    if (!conn) {
      // No connection: the events go out without extras rather than never.
      while (!acc->held.empty()) {
        pending_.push_back(std::move(acc->held.front()));
        acc->held.erase(acc->held.begin());
      }
      acc->enriching = false;
      return;
    }
    enrich(*acc, conn);
  });
}

// One held event at a time, on one leased connection, so order is kept.
void Engine::enrich(Account& a, PoolConnection* conn) {
  if (a.held.empty() || a.removing) {
    pool_->release(conn, true);
    a.enriching = false;
    while (!a.held.empty()) {
      pending_.push_back(std::move(a.held.front()));
      a.held.erase(a.held.begin());
    }
    return;
  }
  const Event& head = a.held.front();
  MessageRequest req;
  req.folder = head.folder;
  req.uid = head.uid;
  req.whole = a.cfg.fetchBodies;
  req.maxBytes = a.cfg.maxBodyBytes;
  req.previewChars = a.cfg.previewChars;
  std::string id = a.cfg.id;
  uint64_t gen = ++a.enrichGen;
  auto release = [this, id, conn, gen](std::shared_ptr<ParsedMessage> parsed, std::string preview, bool hasPreview) {
    Account* acc = find(id);
    // A lost connection started a new attempt for the same head event (and
    // `conn` may be gone): this late answer is stale.
    if (!acc || acc->held.empty() || acc->enrichGen != gen) return;
    Event e = std::move(acc->held.front());
    acc->held.erase(acc->held.begin());
    e.message = std::move(parsed);
    e.preview = std::move(preview);
    e.hasPreview = hasPreview;
    pending_.push_back(std::move(e));
    if (conn->connected()) {
      enrich(*acc, conn);
    } else {
      pool_->release(conn, false);
      acc->enriching = false;
      enrichNext(*acc);
    }
  };
  conn->lost = [this, id](const std::string&, const std::string&) {
    if (Account* acc = find(id)) {
      ++acc->enrichGen;
      acc->enriching = false;
      enrichNext(*acc);
    }
  };
  imap::fetchMessage(conn, req, [this, release, previewChars = a.cfg.previewChars, maxBytes = a.cfg.maxBodyBytes](MessageOutcome out) {
    if (!out.errorCode.empty() || !out.found) {
      release(nullptr, {}, false);
      return;
    }
    if (out.raw.empty()) {
      release(nullptr, std::move(out.preview), true);
      return;
    }
    parseAsync(std::move(out.raw), maxBytes, [release, previewChars](std::shared_ptr<ParsedMessage> m) {
      std::string preview;
      if (previewChars > 0) preview = makePreview(m->hasText ? m->text : htmlToText(m->html), previewChars);
      release(std::move(m), std::move(preview), previewChars > 0);
    });
  });
}

namespace {

struct ParseWork {
  uv_work_t req;
  std::string raw;
  uint64_t maxBytes;
  std::shared_ptr<ParsedMessage> result;
  std::function<void(std::shared_ptr<ParsedMessage>)> done;
  const bool* stopped;
};

}  // namespace

void Engine::parseAsync(std::string raw, uint64_t maxBytes, std::function<void(std::shared_ptr<ParsedMessage>)> done) {
  auto* w = new ParseWork;
  w->req.data = w;
  w->raw = std::move(raw);
  w->maxBytes = maxBytes;
  w->done = std::move(done);
  w->stopped = &stopped_;
  uv_queue_work(
      &loop_, &w->req,
      [](uv_work_t* req) {
        auto* work = static_cast<ParseWork*>(req->data);
        MimeLimits limits;
        limits.maxBytes = static_cast<size_t>(work->maxBytes);
        work->result = std::make_shared<ParsedMessage>(parseMime(work->raw.data(), work->raw.size(), limits));
        std::string().swap(work->raw);
      },
      [](uv_work_t* req, int status) {
        std::unique_ptr<ParseWork> work(static_cast<ParseWork*>(req->data));
        if (status != 0 || *work->stopped) return;  // the engine is going away
        work->done(std::move(work->result));
      });
}

void Engine::fetchMessage(uint64_t requestId, std::string accountId, std::string folder, uint32_t uid,
                          uint64_t maxBytes) {
  post([this, requestId, accountId = std::move(accountId), folder = std::move(folder), uid, maxBytes] {
    auto answer = [this, requestId, accountId, folder, uid](std::shared_ptr<ParsedMessage> m, const std::string& code,
                                                            const std::string& message) {
      Event e;
      e.type = Event::Type::MessageFetched;
      e.accountId = accountId;
      e.folder = folder;
      e.uid = uid;
      e.requestId = requestId;
      e.message = std::move(m);
      e.errorCode = code;
      e.errorMessage = message;
      pending_.push_back(std::move(e));
    };
    Account* a = find(accountId);
    if (!a || a->removing) return answer(nullptr, "UNKNOWN_ACCOUNT", "no account " + accountId);
    pool_->acquire(&a->cfg, a->tls, [this, answer, folder, uid, maxBytes](PoolConnection* conn, const std::string& code,
                                                                            const std::string& message) {
      if (!conn) return answer(nullptr, code, message);
      conn->lost = [answer](const std::string& c, const std::string& m) { answer(nullptr, c, m); };
      MessageRequest req;
      req.folder = folder;
      req.uid = uid;
      req.maxBytes = maxBytes;
      imap::fetchMessage(conn, req, [this, conn, answer, uid, folder, maxBytes](MessageOutcome out) {
        conn->lost = nullptr;
        pool_->release(conn, out.errorCode.empty() || out.errorCode == "SELECT_FAILED");
        if (!out.errorCode.empty()) return answer(nullptr, out.errorCode, out.errorMessage);
        if (!out.found) return answer(nullptr, "NOT_FOUND", "no message with UID " + std::to_string(uid) + " in " + folder);
        uint64_t size = out.size;
        parseAsync(std::move(out.raw), maxBytes, [answer, size](std::shared_ptr<ParsedMessage> m) {
          // The server cut the message at maxBytes; say so, and how big it is.
          if (size > m->size) {
            m->truncated = true;
            m->size = static_cast<size_t>(size);
          }
          answer(std::move(m), {}, {});
        });
      });
    });
  });
}

void Engine::delivered(uint64_t seq) {
  post([this, seq] {
    while (!unsaved_.empty() && unsaved_.begin()->first <= seq) {
      persist(unsaved_.begin()->second);
      unsaved_.erase(unsaved_.begin());
    }
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

Engine::Account* Engine::ownerOf(const IdleSession& s) { return find(s.config().id); }

void Engine::accessToken(const AccountConfig& cfg, bool force,
                         std::function<void(const std::string&, const std::string&)> done) {
  double now = static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  tokens_.get(cfg.id, force, now, std::move(done));
}

// ---- accounts ----

void Engine::doAdd(AccountConfig cfg) {
  auto failNow = [this, &cfg](const std::string& code, const std::string& message) {
    Event e;
    e.type = Event::Type::AccountFailed;
    e.accountId = cfg.id;
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
  auto acc = std::make_unique<Account>();
  acc->cfg = std::move(cfg);
  acc->tls = tls;
  // The context holds the CA now; a bundle copied per account would cost
  // its whole size (hundreds of KiB) times the accounts.
  std::string().swap(acc->cfg.tlsOptions.caPem);
  Account& a = *acc;
  accounts_[a.cfg.id] = std::move(acc);
  for (const auto& folder : a.cfg.folders) {
    auto rt = std::make_unique<FolderRuntime>();
    rt->accountId = a.cfg.id;
    rt->folder = folder;
    a.folders.push_back(std::move(rt));
  }
  loadState(a);
  for (auto& rt : a.folders)
    a.sessions.push_back(std::make_unique<IdleSession>(static_cast<SessionOwner*>(this), &a.cfg, tls, rt.get()));
  for (auto& s : a.sessions) statusChanged(*s);
  for (size_t i = 0; i < a.sessions.size() && !a.removing; ++i) a.sessions[i]->start();
}

void Engine::doRemove(const std::string& id) {
  Account* a = find(id);
  if (!a) {
    Event e;
    e.type = Event::Type::AccountRemoved;
    e.accountId = id;
    emit(std::move(e));
    return;
  }
  beginRemove(*a);
}

void Engine::beginRemove(Account& a) {
  if (a.removing) return;
  a.removing = true;
  closeAccountHandles(a);
  pool_->dropAccount(a.cfg.id);
  for (auto& s : a.sessions) s->close();
}

void Engine::closeAccountHandles(Account& a) {
  if (!a.debounce) return;
  a.debounce->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(a.debounce), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  a.debounce = nullptr;
}

void Engine::doClose() {
  if (closing_) return;
  closing_ = true;
  for (auto& [id, a] : accounts_) beginRemove(*a);
  if (accounts_.empty()) stopLoop();
}

void Engine::reapFinished() {
  if (finished_.empty()) return;
  std::vector<std::string> done;
  done.swap(finished_);
  for (const auto& id : done) {
    auto it = accounts_.find(id);
    if (it == accounts_.end()) continue;
    std::unique_ptr<Account> a = std::move(it->second);
    accounts_.erase(it);
    tokens_.forget(id);
    {
      std::lock_guard<std::mutex> lock(statusMu_);
      for (auto st = status_.begin(); st != status_.end();)
        st = st->first.first == id ? status_.erase(st) : std::next(st);
      poolStats_.erase(id);
    }
    if (!a->failed && !closing_) {
      Event e;
      e.type = Event::Type::AccountRemoved;
      e.accountId = id;
      emit(std::move(e));
    }
  }
  if (closing_ && accounts_.empty()) stopLoop();
}

void Engine::stopLoop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(queueMu_);
    accepting_ = false;
    queue_.clear();
  }
  for (auto& [id, a] : accounts_) closeAccountHandles(*a);
  accounts_.clear();  // sessions close their handles
  pool_.reset();
  if (closing_) {
    Event e;
    e.type = Event::Type::Closed;
    emit(std::move(e));
  }
  flushEvents();
  store_.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&persistTimer_), nullptr);
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
    Event e;
    e.type = Event::Type::AccountReady;
    e.accountId = a->cfg.id;
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
  Event e;
  e.type = Event::Type::AccountFailed;
  e.accountId = a->cfg.id;
  e.folder = s.folder();
  e.errorCode = code;
  e.errorMessage = message;
  emit(std::move(e));
  beginRemove(*a);
}

void Engine::sessionClosed(IdleSession& s) {
  Account* a = ownerOf(s);
  if (!a) return;
  if (++a->closed == a->sessions.size() && !a->syncing) finished_.push_back(a->cfg.id);
}

void Engine::folderNeedsSync(IdleSession& s) {
  Account* a = ownerOf(s);
  if (!a || a->removing || !a->running) return;
  a->debounced.insert(s.folder());
  if (!a->debounce) {
    a->debounce = new uv_timer_t;
    uv_timer_init(&loop_, a->debounce);
    a->debounce->data = this;
  }
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(a->debounce))) {
    // The account id travels in a heap string so the callback can find the
    // account again (or learn that it is gone).
    uv_timer_start(a->debounce, onDebounce, config_.syncDebounceMs, 0);
  }
}

void Engine::onDebounce(uv_timer_t* t) {
  auto* self = static_cast<Engine*>(t->data);
  if (!self) return;
  for (auto& [id, a] : self->accounts_) {
    if (a->debounce != t) continue;
    std::set<std::string> folders;
    folders.swap(a->debounced);
    if (!a->removing) self->requestSync(*a, std::move(folders), {});
    return;
  }
}

// ---- sync ----

void Engine::requestSync(Account& a, std::set<std::string> folders, std::vector<uint64_t> requestIds) {
  if (!a.next) {
    a.next = SyncRun{std::move(folders), std::move(requestIds)};
  } else {
    // Merge: an empty folder set means every folder and absorbs the rest.
    if (a.next->folders.empty() || folders.empty()) a.next->folders.clear();
    else a.next->folders.insert(folders.begin(), folders.end());
    a.next->requestIds.insert(a.next->requestIds.end(), requestIds.begin(), requestIds.end());
  }
  {
    std::lock_guard<std::mutex> lock(statusMu_);
    syncStats_.pending = 0;
    for (const auto& [id, acc] : accounts_) syncStats_.pending += acc->next ? 1 : 0;
  }
  if (!a.syncing) startSync(a);
}

void Engine::startSync(Account& a) {
  SyncRun run = std::move(*a.next);
  a.next.reset();
  a.syncing = true;
  a.results.clear();
  a.syncStartedAt = nowMs();
  {
    std::lock_guard<std::mutex> lock(statusMu_);
    ++syncStats_.active;
    if (syncStats_.pending > 0) --syncStats_.pending;
  }
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
        rt->accountId = a.cfg.id;
        rt->folder = name;
        found = rt.get();
        a.folders.push_back(std::move(rt));
      }
      todo.push_back(found);
    }
  }
  Event started;
  started.type = Event::Type::SyncStarted;
  started.accountId = a.cfg.id;
  started.total = static_cast<uint32_t>(todo.size());
  emit(std::move(started));
  auto ids = std::make_shared<std::vector<uint64_t>>(std::move(run.requestIds));
  a.next.reset();
  std::string id = a.cfg.id;
  // requestIds ride on the account until finishSync.
  a.results.reserve(todo.size());
  a.syncRequestIds_ = *ids;
  pool_->acquire(&a.cfg, a.tls, [this, id, todo](PoolConnection* conn, const std::string& code, const std::string& message) {
    Account* acc = find(id);
    if (!acc) {
      if (conn) pool_->release(conn, true);
      return;
    }
    if (!conn) {
      finishSync(*acc, nullptr, false, code, message);
      return;
    }
    syncNextFolder(*acc, conn, todo, 0);
  });
}

void Engine::syncNextFolder(Account& a, PoolConnection* conn, std::vector<FolderRuntime*> todo, size_t index) {
  if (index == todo.size() || a.removing) {
    finishSync(a, conn, true, {}, {});
    return;
  }
  std::string id = a.cfg.id;
  auto emitFn = [this](Event&& e) { emit(std::move(e)); };
  auto doneFn = [this, id, conn, todo, index](FolderSyncResult result) {
    Account* acc = find(id);
    if (!acc) return;
    bool connectionGone = !conn->connected();
    acc->results.push_back(std::move(result));
    Event progress;
    progress.type = Event::Type::SyncProgress;
    progress.accountId = id;
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
  Event e;
  e.type = Event::Type::SyncCompleted;
  e.accountId = a.cfg.id;
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
    if (syncStats_.active > 0) --syncStats_.active;
    ++syncStats_.completed;
  }
  if (a.removing) {
    if (a.closed == a.sessions.size()) finished_.push_back(a.cfg.id);
    return;
  }
  if (a.next) startSync(a);
}

// ---- persistence ----

void Engine::loadState(Account& a) {
  if (!store_) return;
  std::vector<StoredFolder> rows;
  std::string err;
  if (!store_->load(a.cfg.id, rows, err)) return;
  for (const auto& row : rows) {
    for (auto& rt : a.folders) {
      if (rt->folder != row.folder) continue;
      rt->fs.uidValidity = row.uidValidity;
      rt->fs.uidNext = row.uidNext;
      rt->fs.highestModseq = row.highestModseq;
      rt->initialDone = row.initialDone;
      auto known = UidSet::parse(row.uids);
      rt->known = known ? *known : UidSet{};
      rt->knownValid = row.initialDone && known.has_value();
      parseWindow(row.flagWindow, *rt);
      rt->fromStore = true;
    }
  }
}

void Engine::collectDirty(std::vector<StoredFolder>& rows) {
  if (!store_) return;  // state lives in memory: nothing to write, no walk per loop pass
  for (auto& [id, a] : accounts_) {
    // Held newMessage events have advanced UIDNEXT but are not in JS yet.
    if (!a->held.empty()) continue;
    for (auto& rt : a->folders) {
      if (!rt->dirty) continue;
      rt->dirty = false;
      if (rt->fs.uidValidity == 0) continue;
      StoredFolder row;
      row.accountId = rt->accountId;
      row.folder = rt->folder;
      row.uidValidity = rt->fs.uidValidity;
      row.uidNext = rt->fs.uidNext;
      row.highestModseq = rt->fs.highestModseq;
      row.uids = rt->knownValid ? rt->known.toString() : std::string();
      row.flagWindow = serializeWindow(*rt);
      row.initialDone = rt->initialDone && rt->knownValid;
      rows.push_back(std::move(row));
    }
  }
}

void Engine::persist(std::vector<StoredFolder>& rows) {
  if (!store_ || rows.empty()) return;
  std::string err;
  store_->save(rows, err);  // a failed write is retried with the next change
}

}  // namespace imap
