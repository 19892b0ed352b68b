// folderChanged and folderStatus: a folder's counts (messages, unseen,
// UIDNEXT, HIGHESTMODSEQ) from STATUS on a pooled connection.
//
// The engine does not track \Seen for every message (the flag memory holds
// only the newest ones), so after anything that may move the counts (a
// newMessage, messageDeleted, flagsChanged or folderReset of a watched
// folder, whether IDLE or a sync found it) it asks the server: once per
// debounce window per account, one STATUS per folder that changed, on one
// leased connection. Nothing is asked while nothing changes, so watching
// costs no pooled connection; the first folderChanged of a folder therefore
// comes with its first change, and later ones only when the counts differ
// from the last sent. Never on the IDLE connection: STATUS of the selected
// mailbox is discouraged (RFC 3501 6.3.10) and would break its IDLE.
#include "engine/engine.h"
#include "imap/status.h"

namespace imap {

namespace {
// Long enough to merge a burst (a catch-up, a bulk flag change) into one
// STATUS, short enough for an unread badge to feel live.
constexpr uint64_t kCountsDebounceMs = 200;
}  // namespace

void Engine::folderStatus(uint64_t requestId, std::string accountId, std::string folder) {
  postAction(requestId, std::move(accountId), folder, true,
             [folder](PoolConnection* conn, std::function<void(ActionOutcome)> done) {
               imap::folderStatus(conn, folder, std::move(done));
             });
}

void Engine::noteCountsChange(const Event& e) {
  using T = Event::Type;
  if (e.type != T::NewMessage && e.type != T::MessageDeleted && e.type != T::FlagsChanged && e.type != T::FolderReset) return;
  Account* a = find(e.accountId);
  if (!a || a->removing) return;
  bool watched = false;
  for (const auto& s : a->sessions) watched = watched || s->folder() == e.folder;
  if (!watched) return;
  a->countsDue.insert(e.folder);
  armCounts(*a);
}

// A run in progress arms the timer again when it ends.
void Engine::armCounts(Account& a) {
  if (a.countsBusy || a.removing || a.countsDue.empty()) return;
  if (!a.countsTimer) a.countsTimer = makeTimer(a);
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&a.countsTimer->handle)))
    uv_timer_start(&a.countsTimer->handle, onCountsTimer, kCountsDebounceMs, 0);
}

void Engine::onCountsTimer(uv_timer_t* t) {
  auto* d = static_cast<DebounceTimer*>(t->data);
  if (!d->engine) return;
  if (Account* a = d->engine->find(d->accountId)) d->engine->checkCounts(*a);
}

void Engine::checkCounts(Account& a) {
  if (a.countsBusy || a.removing || a.countsDue.empty()) return;
  std::vector<std::string> todo(a.countsDue.begin(), a.countsDue.end());
  a.countsDue.clear();
  a.countsBusy = true;
  AccountRef ref = refOf(a.cfg->id);
  lease(a, [this, ref, todo](PoolConnection* conn, const std::string&, const std::string&) {
    auto acc = ref.lock();
    if (!acc) {
      if (conn) pool_->release(conn, true);
      return;
    }
    // No connection to be had: the folders wait for their next change.
    if (!conn) return countsDone(*acc);
    checkNextCounts(*acc, conn, todo, 0);
  });
}

void Engine::checkNextCounts(Account& a, PoolConnection* conn, std::vector<std::string> todo, size_t index) {
  if (index == todo.size() || a.removing) {
    conn->lost = nullptr;
    pool_->release(conn, true);
    return countsDone(a);
  }
  AccountRef ref = refOf(a.cfg->id);
  conn->lost = [this, ref, todo, index](const std::string&, const std::string&) {
    auto acc = ref.lock();
    if (!acc) return;
    // The unasked folders are asked with the next change, not now: a server
    // that drops every connection would otherwise be asked in a loop.
    acc->countsDue.insert(todo.begin() + static_cast<std::ptrdiff_t>(index), todo.end());
    acc->countsBusy = false;
  };
  imap::folderStatus(conn, todo[index], [this, ref, conn, todo, index](ActionOutcome out) {
    auto acc = ref.lock();
    if (!acc) {
      conn->lost = nullptr;
      pool_->release(conn, true);
      return;
    }
    if (out.counts) {
      auto [sent, fresh] = acc->countsSent.emplace(todo[index], *out.counts);
      if (fresh || sent->second != *out.counts) {
        sent->second = *out.counts;
        Event e = Event::of(Event::Type::FolderChanged, acc->cfg->id, todo[index]);
        e.counts = out.counts;
        emit(std::move(e));
      }
    }
    checkNextCounts(*acc, conn, todo, index + 1);
  });
}

void Engine::countsDone(Account& a) {
  a.countsBusy = false;
  armCounts(a);
}

}  // namespace imap
