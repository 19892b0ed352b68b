// Mailbox actions: the app's own changes, on pooled connections (never the
// IDLE ones), answered as ActionDone. Their effects reach the app through
// the IDLE watchers like anyone else's change, so events stay exactly-once.
#include <memory>

#include "engine/engine.h"
#include "imap/mailbox_ops.h"
#include "imap/message_list.h"
#include "imap/part_download.h"

namespace imap {

void Engine::runAction(uint64_t requestId, const std::string& accountId, const std::string& folder, bool idempotent,
                       ActionJob job, bool retried) {
  auto answer = [this, requestId, accountId, folder](const ActionOutcome& out) {
    Event e = Event::of(Event::Type::ActionDone, accountId, folder);
    e.requestId = requestId;
    e.modseq = out.modseq;
    e.uidSet = out.found.empty() ? out.modified : out.found;
    e.uidValidity = out.uidValidity;
    e.uid = out.uid;
    e.quota = out.quota;
    e.data = out.data;
    e.truncated = out.truncated;
    e.partType = out.partType;
    e.partEncoding = out.partEncoding;
    e.copySource = out.copySource;
    e.copyDest = out.copyDest;
    e.counts = out.counts;
    e.errorCode = out.errorCode;
    e.errorMessage = out.errorMessage;
    emit(std::move(e));
  };
  Account* a = find(accountId);
  if (!a || a->removing) return answer(ActionOutcome::error("UNKNOWN_ACCOUNT", "no account " + accountId));
  lease(*a, [this, answer, requestId, accountId, folder, idempotent, job, retried](
                PoolConnection* conn, const std::string& code, const std::string& message) {
    if (!conn) return answer(ActionOutcome::error(code, message));
    conn->lost = [this, answer, requestId, accountId, folder, idempotent, job, retried](const std::string&,
                                                                                         const std::string& m) {
      // The pool is telling every lessee; lease again from a fresh pass.
      if (idempotent && !retried &&
          post([this, requestId, accountId, folder, job] { runAction(requestId, accountId, folder, true, job, true); }))
        return;
      answer(ActionOutcome::error(
          "CONNECTION_LOST", m + (idempotent ? " (retried once)" : "; not retried: the action may or may not have happened")));
    };
    job(conn, [this, conn, answer](ActionOutcome out) {
      conn->lost = nullptr;
      // A server's NO leaves the connection fine; only a lost one is broken.
      pool_->release(conn, true);
      answer(out);
    });
  });
}

void Engine::postAction(uint64_t requestId, std::string accountId, std::string folder, bool idempotent, ActionJob job) {
  post([this, requestId, accountId = std::move(accountId), folder = std::move(folder), idempotent, job = std::move(job)] {
    runAction(requestId, accountId, folder, idempotent, job);
  });
}

void Engine::storeFlags(uint64_t requestId, std::string accountId, StoreRequest req) {
  std::string folder = req.folder;
  postAction(requestId, std::move(accountId), std::move(folder), true,
             [req = std::move(req)](PoolConnection* conn, std::function<void(ActionOutcome)> done) {
               imap::storeFlags(conn, req, std::move(done));
             });
}

void Engine::deleteMessages(uint64_t requestId, std::string accountId, std::string folder, std::string uids) {
  postAction(requestId, std::move(accountId), folder, false,
             [folder, uids = std::move(uids)](PoolConnection* conn, std::function<void(ActionOutcome)> done) {
               imap::deleteMessages(conn, folder, uids, std::move(done));
             });
}

void Engine::copyMessages(uint64_t requestId, std::string accountId, CopyRequest req) {
  std::string folder = req.folder;
  postAction(requestId, std::move(accountId), std::move(folder), false,
             [req = std::move(req)](PoolConnection* conn, std::function<void(ActionOutcome)> done) {
               imap::copyMessages(conn, req, std::move(done));
             });
}

void Engine::searchMessages(uint64_t requestId, std::string accountId, SearchRequest req) {
  std::string folder = req.folder;
  postAction(requestId, std::move(accountId), std::move(folder), true,
             [req = std::move(req)](PoolConnection* conn, std::function<void(ActionOutcome)> done) {
               imap::searchMessages(conn, req, std::move(done));
             });
}

void Engine::appendMessage(uint64_t requestId, std::string accountId, AppendRequest req) {
  // Shared, not copied: a message can be megabytes.
  auto shared = std::make_shared<AppendRequest>(std::move(req));
  postAction(requestId, std::move(accountId), shared->folder, false,
             [shared](PoolConnection* conn, std::function<void(ActionOutcome)> done) {
               imap::appendMessage(conn, *shared, std::move(done));
             });
}

void Engine::folderCommand(uint64_t requestId, std::string accountId, FolderRequest req) {
  bool idempotent = req.op == FolderRequest::Op::Subscribe || req.op == FolderRequest::Op::Unsubscribe;
  std::string path = req.path;
  postAction(requestId, accountId, std::move(path), idempotent,
             [this, accountId, req = std::move(req)](PoolConnection* conn, std::function<void(ActionOutcome)> done) {
               imap::folderCommand(conn, req, [this, accountId, done](ActionOutcome out) {
                 // listFolders() must not answer from a list this changed.
                 if (Account* a = find(accountId)) a->folderCacheValid = false;
                 done(std::move(out));
               });
             });
}

void Engine::getQuota(uint64_t requestId, std::string accountId, std::string folder) {
  postAction(requestId, std::move(accountId), folder, true,
             [folder](PoolConnection* conn, std::function<void(ActionOutcome)> done) {
               imap::getQuota(conn, folder, std::move(done));
             });
}

void Engine::listMessages(uint64_t requestId, std::string accountId, ListRequest req) {
  std::string folder = req.folder;
  postAction(requestId, accountId, std::move(folder), true,
             [this, requestId, accountId, req = std::move(req)](PoolConnection* conn, std::function<void(ActionOutcome)> done) {
               imap::listMessages(
                   conn, req,
                   [this, requestId, accountId](Event e) {
                     e.accountId = accountId;
                     e.requestId = requestId;
                     emit(std::move(e));
                   },
                   std::move(done));
             });
}

void Engine::downloadPart(uint64_t requestId, std::string accountId, PartRequest req) {
  std::string folder = req.folder;
  postAction(requestId, std::move(accountId), std::move(folder), true,
             [req = std::move(req)](PoolConnection* conn, std::function<void(ActionOutcome)> done) {
               imap::downloadPart(conn, req, std::move(done));
             });
}

}  // namespace imap
