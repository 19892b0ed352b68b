#include "engine.h"

#include <chrono>

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

Engine::Engine(EngineConfig config, Sink sink)
    : config_(config),
      sink_(std::move(sink)),
      tokens_(
          [this](const std::string& accountId) {
            Event e;
            e.type = Event::Type::TokenRequest;
            e.accountId = accountId;
            emit(std::move(e));
          },
          config.tokenRefreshBeforeMs) {
  uv_loop_init(&loop_);
  shared_.loop = &loop_;
  uv_async_init(&loop_, &async_, onAsync);
  async_.data = this;
  uv_check_init(&loop_, &check_);
  check_.data = this;
  uv_check_start(&check_, onCheck);
  thread_ = std::thread([this] { run(); });
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
  self->flushEvents();
}

void Engine::flushEvents() {
  if (pending_.empty()) return;
  std::vector<Event> batch;
  batch.swap(pending_);
  sink_(std::move(batch));
}

void Engine::addAccount(AccountConfig cfg) {
  auto shared = std::make_shared<AccountConfig>(std::move(cfg));
  if (!post([this, shared] { doAdd(std::move(*shared)); })) {
    // Engine already stopped: nothing will answer.
  }
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

void Engine::accessToken(const AccountConfig& cfg, bool force,
                         std::function<void(const std::string&, const std::string&)> done) {
  double now = static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  tokens_.get(cfg.id, force, now, std::move(done));
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

Engine::Account* Engine::find(const std::string& id) {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : it->second.get();
}

Engine::Account* Engine::ownerOf(const IdleSession& s) { return find(s.config().id); }

// ---- loop-thread commands ----

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
  Account& a = *acc;
  accounts_[a.cfg.id] = std::move(acc);
  for (const auto& folder : a.cfg.folders) {
    auto rt = std::make_unique<FolderRuntime>();
    rt->accountId = a.cfg.id;
    rt->folder = folder;
    a.sessions.push_back(std::make_unique<IdleSession>(static_cast<SessionOwner*>(this), &a.cfg, tls, rt.get()));
    a.folders.push_back(std::move(rt));
  }
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
  for (auto& s : a.sessions) s->close();
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
  accounts_.clear();  // sessions close their handles
  if (closing_) {
    Event e;
    e.type = Event::Type::Closed;
    emit(std::move(e));
  }
  flushEvents();
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
}

// ---- session callbacks ----

void Engine::statusChanged(const IdleSession& s) {
  FolderStatus snap = s.snapshot();
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
  if (++a->closed == a->sessions.size()) finished_.push_back(a->cfg.id);
}

}  // namespace imap
