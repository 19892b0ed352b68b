#include "imap/actions.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "imap/fetch.h"
#include "imap/select.h"
#include "core/uidset.h"

namespace imap {

namespace {

bool atomChar(char c) {
  auto u = static_cast<unsigned char>(c);
  // RFC 3501 ATOM-CHAR: no CTL, SP, "(", ")", "{", "%", "*", '"', "\", "]".
  return u > 0x20 && u < 0x7f && c != '(' && c != ')' && c != '{' && c != '%' && c != '*' && c != '"' &&
         c != '\\' && c != ']';
}

// FETCH responses to our STORE carry the new MODSEQ (RFC 7162 3.2, also
// with .SILENT); the highest is the one to report.
void watchModseq(LentClient* conn, std::shared_ptr<ActionOutcome> out) {
  conn->untagged = [out](const Response& r) {
    if (r.keyword != "FETCH" || r.args.empty()) return;
    FetchItems items = parseFetchItems(r.args[0]);
    out->modseq = std::max(out->modseq, items.modseq);
  };
}

// A UID set's characters per command: a long set is split (RFC 7162 3.2.1
// suggests lines of at most 8192 octets).
constexpr size_t kMaxSetChars = 4000;

void fail(ActionOutcome& out, const char* code, std::string message) {
  out.errorCode = code;
  out.errorMessage = std::move(message);
}

// One command per chunk of a long UID set, in order, stopping at the first
// that fails: `each` sees every OK answer, `finish` the failure or null.
void sendChunks(LentClient* conn, std::shared_ptr<std::vector<std::string>> chunks,
                std::function<std::string(const std::string&)> command, std::function<void(const Response&)> each,
                std::function<void(const Response* failed)> finish) {
  auto next = std::make_shared<std::function<void(size_t)>>();
  // Holds itself weakly; the command in flight holds it strongly, so the
  // chain frees itself after the last answer.
  *next = [conn, chunks, command, each, finish, weak = std::weak_ptr<std::function<void(size_t)>>(next)](size_t i) {
    if (i == chunks->size()) return finish(nullptr);
    conn->send(command((*chunks)[i]), [each, finish, self = weak.lock(), i](const Response& r) {
      if (r.status != "OK") return finish(&r);
      each(r);
      (*self)(i + 1);
    });
  };
  (*next)(0);
}

}  // namespace

bool validFlag(const std::string& flag) {
  size_t start = !flag.empty() && flag[0] == '\\' ? 1 : 0;
  if (flag.size() <= start || flag.size() > 256) return false;
  return std::all_of(flag.begin() + static_cast<long>(start), flag.end(), atomChar);
}

void storeFlags(LentClient* conn, StoreRequest req, std::function<void(ActionOutcome)> done) {
  auto out = std::make_shared<ActionOutcome>();
  for (const auto& f : req.flags)
    if (!validFlag(f)) {
      fail(*out, "COMMAND_FAILED", "not an IMAP flag: " + f);
      return done(*out);
    }
  auto set = UidSet::parse(req.uids);
  if (!set || set->empty()) {
    fail(*out, "COMMAND_FAILED", "not a UID set: " + req.uids);
    return done(*out);
  }
  // Long sets go as several commands, each line well under what servers take.
  auto chunks = std::make_shared<std::vector<std::string>>(set->toChunks(kMaxSetChars));
  std::string folder = req.folder;
  ensureSelected(conn, folder, [conn, req = std::move(req), chunks, out, done](const std::string& error) {
    if (!error.empty()) {
      fail(*out, "NOT_FOUND", "cannot select " + req.folder + ": " + error);
      return done(*out);
    }
    std::string tail;
    if (req.unchangedSince) tail += " (UNCHANGEDSINCE " + std::to_string(req.unchangedSince) + ")";
    tail += req.op == StoreRequest::Op::Add ? " +FLAGS.SILENT (" : req.op == StoreRequest::Op::Remove ? " -FLAGS.SILENT (" : " FLAGS.SILENT (";
    for (size_t i = 0; i < req.flags.size(); ++i) tail += (i ? " " : "") + req.flags[i];
    tail += ")";
    watchModseq(conn, out);
    sendChunks(
        conn, chunks, [tail](const std::string& set) { return "UID STORE " + set + tail; },
        [out](const Response& r) {
          if (!r.code || r.code->name != "MODIFIED") return;
          // The raw code text after its name is the set as the server sent it.
          const std::string& raw = r.code->raw;
          size_t sp = raw.find(' ');
          if (sp != std::string::npos) out->modified += (out->modified.empty() ? "" : ",") + raw.substr(sp + 1);
        },
        [conn, out, done](const Response* failed) {
          conn->untagged = nullptr;
          if (failed) fail(*out, "COMMAND_FAILED", describe(*failed));
          done(*out);
        });
  });
}

void deleteMessages(LentClient* conn, std::string folder, std::string uids, std::function<void(ActionOutcome)> done) {
  auto out = std::make_shared<ActionOutcome>();
  if (!conn->hasCap("UIDPLUS")) {
    fail(*out, "UNSUPPORTED", "the server has no UIDPLUS, so it cannot expunge only these messages");
    return done(*out);
  }
  StoreRequest mark;
  mark.folder = std::move(folder);
  mark.uids = uids;
  mark.flags = {"\\Deleted"};
  storeFlags(conn, std::move(mark), [conn, uids, out, done](ActionOutcome marked) {
    if (!marked.errorCode.empty()) return done(marked);
    // storeFlags parsed the set, so it is one; chunked the same way.
    auto chunks = std::make_shared<std::vector<std::string>>(UidSet::parse(uids)->toChunks(kMaxSetChars));
    sendChunks(
        conn, chunks, [](const std::string& set) { return "UID EXPUNGE " + set; }, [](const Response&) {},
        [out, done](const Response* failed) {
          if (failed) fail(*out, "COMMAND_FAILED", describe(*failed));
          done(*out);
        });
  });
}

}  // namespace imap
