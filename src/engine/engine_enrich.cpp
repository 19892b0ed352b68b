// Work on pooled connections besides sync: newMessage enrichment (preview,
// parsed body), fetchMessage and listFolders.
#include "engine/engine.h"

#include "mime/preview.h"

namespace imap {

void Engine::emit(Event&& e) {
  noteCountsChange(e);
  if (e.type == Event::Type::NewMessage) {
    Account* a = find(e.accountId);
    if (a && !a->removing && (a->cfg->fetchBodies || a->cfg->previewChars > 0)) {
      a->held.push_back(std::move(e));
      enrichNext(*a);
      return;
    }
  }
  pending_.push_back(std::move(e));
}

// Held events go out without their extras (a removed account, no
// connection to be had): late and plain rather than never.
void Engine::cancelEnrichment(Account& a) {
  a.enrichGen = ++enrichGen_;  // any answer still on its way is stale
  a.enriching = false;
  while (a.hasHeld()) pending_.push_back(a.popHeld());
}

void Engine::enrichNext(Account& a) {
  if (a.enriching || !a.hasHeld() || stopped_ || a.removing) return;
  a.enriching = true;
  uint64_t gen = a.enrichGen = ++enrichGen_;
  AccountRef ref = refOf(a.cfg->id);
  lease(a, [this, ref, gen](PoolConnection* conn, const std::string&, const std::string&) {
    auto acc = ref.lock();
    if (!acc || acc->enrichGen != gen || acc->removing) {
      if (conn) pool_->release(conn, true);
      return;
    }
    if (!conn) {
      cancelEnrichment(*acc);
      return;
    }
    enrich(*acc, conn);
  });
}

// One held event at a time, on one leased connection, so order is kept.
void Engine::enrich(Account& a, PoolConnection* conn) {
  if (!a.hasHeld() || a.removing) {
    pool_->release(conn, true);
    cancelEnrichment(a);
    return;
  }
  const Event& head = a.held[a.heldHead];
  MessageRequest req;
  req.folder = head.folder;
  req.uid = head.uid;
  req.whole = a.cfg->fetchBodies;
  req.maxBytes = a.cfg->maxBodyBytes;
  req.previewChars = a.cfg->previewChars;
  AccountRef ref = refOf(a.cfg->id);
  uint64_t gen = a.enrichGen = ++enrichGen_;
  // `conn` is only touched while the generation still matches: a lost
  // connection or a removal bumps it before the connection can go away.
  auto release = [this, ref, conn, gen](std::shared_ptr<ParsedMessage> parsed, std::string preview, bool hasPreview) {
    auto acc = ref.lock();
    if (!acc || !acc->hasHeld() || acc->enrichGen != gen) return;
    Event e = acc->popHeld();
    e.message = std::move(parsed);
    e.preview = std::move(preview);
    e.hasPreview = hasPreview;
    pending_.push_back(std::move(e));
    conn->lost = nullptr;
    if (conn->connected()) {
      enrich(*acc, conn);
    } else {
      pool_->release(conn, false);
      acc->enriching = false;
      enrichNext(*acc);
    }
  };
  conn->lost = [this, ref](const std::string&, const std::string&) {
    auto acc = ref.lock();
    if (!acc) return;
    acc->enrichGen = ++enrichGen_;
    acc->enriching = false;
    enrichNext(*acc);  // refused once the account is being removed
  };
  imap::fetchMessage(conn, req, [this, release, previewChars = a.cfg->previewChars, maxBytes = a.cfg->maxBodyBytes](MessageOutcome out) {
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
      Event e = Event::of(Event::Type::MessageFetched, accountId, folder);
      e.uid = uid;
      e.requestId = requestId;
      e.message = std::move(m);
      e.errorCode = code;
      e.errorMessage = message;
      pending_.push_back(std::move(e));
    };
    Account* a = find(accountId);
    if (!a || a->removing) return answer(nullptr, "UNKNOWN_ACCOUNT", "no account " + accountId);
    lease(*a, [this, answer, folder, uid, maxBytes](PoolConnection* conn, const std::string& code,
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

void Engine::listFolders(uint64_t requestId, std::string accountId, bool refresh) {
  post([this, requestId, accountId = std::move(accountId), refresh] {
    auto answer = [this, requestId, accountId](std::vector<FolderInfo> list, const std::string& code,
                                               const std::string& message) {
      Event e = Event::of(Event::Type::FolderList, accountId);
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
    AccountRef ref = refOf(accountId);
    lease(*a, [this, ref, answer](PoolConnection* conn, const std::string& code, const std::string& message) {
      if (!conn) return answer({}, code, message);
      conn->lost = [answer](const std::string& c, const std::string& m) { answer({}, c, m); };
      imap::listFolders(conn, [this, conn, ref, answer](std::vector<FolderInfo> list, const std::string& c,
                                                         const std::string& m) {
        conn->lost = nullptr;
        pool_->release(conn, c.empty());
        if (auto acc = ref.lock(); acc && c.empty()) {
          acc->folderCache = list;
          acc->folderCacheAt = nowMs();
          acc->folderCacheValid = true;
        }
        answer(std::move(list), c, m);
      });
    });
  });
}

}  // namespace imap
