#include "imap/message_fetch.h"

#include <algorithm>
#include <memory>

#include "imap/fetch.h"
#include "imap/select.h"
#include "mime/mime_codec.h"
#include "core/mutf7.h"
#include "mime/preview.h"

namespace imap {

namespace {

// The literal that answers BODY[...] in a FETCH item list.
const Value* sectionData(const Value& items) {
  if (!items.isList()) return nullptr;
  for (size_t i = 0; i + 1 < items.list.size(); i += 2) {
    const Value& key = items.list[i];
    if (key.isAtom() && (key.str.rfind("BODY[", 0) == 0 || key.str.rfind("body[", 0) == 0)) return &items.list[i + 1];
  }
  return nullptr;
}

const Value* item(const Value& items, const char* name) {
  if (!items.isList()) return nullptr;
  for (size_t i = 0; i + 1 < items.list.size(); i += 2)
    if (items.list[i].atomIs(name)) return &items.list[i + 1];
  return nullptr;
}

// An answer about another message than the one asked for (UID FETCH
// responses carry the UID): unsolicited, so not ours to take.
bool aboutOther(const Value& items, uint32_t uid) {
  const Value* u = item(items, "UID");
  return u && toU32(*u) != uid;
}

struct Job {
  LentClient* conn;
  MessageRequest req;
  std::function<void(MessageOutcome)> done;
  MessageOutcome out;
  Value structure;
  bool gotStructure = false;

  void finish() {
    conn->untagged = nullptr;
    auto cb = std::move(done);
    cb(std::move(out));
  }
  void fail(const std::string& code, const std::string& message) {
    out.errorCode = code;
    out.errorMessage = message;
    finish();
  }
};

void readPreview(std::shared_ptr<Job> job) {
  PreviewPart part;
  if (!choosePreviewPart(job->structure, part)) {
    job->finish();  // nothing textual: an empty preview
    return;
  }
  // Enough raw bytes for the preview even after base64 (4/3) and multi-byte
  // characters; HTML needs more, its markup does not count.
  size_t bytes = job->req.previewChars * (part.html ? 24 : 8) + 256;
  job->conn->untagged = [job, part](const Response& r) {
    if (r.keyword != "FETCH" || r.args.empty() || aboutOther(r.args[0], job->req.uid)) return;
    const Value* data = sectionData(r.args[0]);
    if (!data || !data->isText()) return;
    std::string decoded = mime::textToUtf8(part.charset, mime::decodeTransfer(part.encoding, data->str));
    job->out.preview = makePreview(part.html ? htmlToText(decoded) : decoded, job->req.previewChars);
  };
  job->conn->send("UID FETCH " + std::to_string(job->req.uid) + " (BODY.PEEK[" + part.section + "]<0." +
                      std::to_string(bytes) + ">)",
                  [job](const Response& r) {
                    if (r.status != "OK") return job->fail("COMMAND_FAILED", "preview fetch failed: " + describe(r));
                    job->finish();
                  });
}

void afterSelect(std::shared_ptr<Job> job) {
  const std::string uid = std::to_string(job->req.uid);
  if (job->req.whole) {
    job->conn->untagged = [job](const Response& r) {
      if (r.keyword != "FETCH" || r.args.empty() || aboutOther(r.args[0], job->req.uid)) return;
      const Value* data = sectionData(r.args[0]);
      if (!data || !data->isText()) return;
      job->out.found = true;
      // A server that ignores the <0.n> partial must not hand us more.
      job->out.raw.assign(data->str, 0, std::min(data->str.size(), job->req.maxBytes));
      if (const Value* size = item(r.args[0], "RFC822.SIZE")) job->out.size = size->num;
    };
    job->conn->send("UID FETCH " + uid + " (RFC822.SIZE BODY.PEEK[]<0." + std::to_string(job->req.maxBytes) + ">)",
                    [job](const Response& r) {
                      if (r.status != "OK") return job->fail("COMMAND_FAILED", "fetch failed: " + describe(r));
                      job->finish();
                    });
    return;
  }
  job->conn->untagged = [job](const Response& r) {
    if (r.keyword != "FETCH" || r.args.empty() || aboutOther(r.args[0], job->req.uid)) return;
    if (const Value* bs = item(r.args[0], "BODYSTRUCTURE")) {
      job->structure = *bs;
      job->gotStructure = true;
      job->out.found = true;
    }
  };
  job->conn->send("UID FETCH " + uid + " (BODYSTRUCTURE)", [job](const Response& r) {
    if (r.status != "OK") return job->fail("COMMAND_FAILED", "BODYSTRUCTURE failed: " + describe(r));
    if (!job->gotStructure) return job->finish();
    readPreview(job);
  });
}

}  // namespace

void fetchMessage(LentClient* conn, MessageRequest req, std::function<void(MessageOutcome)> done) {
  auto job = std::make_shared<Job>();
  job->conn = conn;
  job->req = std::move(req);
  // lib/ rejects more; a larger answer would fail the parser's literal cap anyway.
  job->req.maxBytes = std::min(job->req.maxBytes, kMaxLiteralBytes);
  job->done = std::move(done);
  if (isSelected(conn, job->req.folder)) {
    // A reused selection may not have seen the message yet (a server need
    // not announce new mail before the next command): one NOOP and a second
    // look before "not found", or a new message would lose its body.
    auto answer = std::move(job->done);
    job->done = [conn, req = job->req, answer](MessageOutcome out) mutable {
      if (out.found || !out.errorCode.empty() || !conn->connected()) return answer(std::move(out));
      conn->send("NOOP", [conn, req = std::move(req), answer](const Response& r) mutable {
        if (r.status != "OK") return answer(MessageOutcome{});
        auto again = std::make_shared<Job>();
        again->conn = conn;
        again->req = std::move(req);
        again->done = std::move(answer);
        afterSelect(again);
      });
    };
    afterSelect(job);
    return;
  }
  ensureSelected(conn, job->req.folder, [job](const std::string& error) {
    if (!error.empty()) return job->fail("SELECT_FAILED", "cannot select " + job->req.folder + ": " + error);
    afterSelect(job);
  });
}

}  // namespace imap
