#include "imap/actions.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/mutf7.h"
#include "imap/command.h"
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
                std::function<std::vector<std::string>(const std::string&)> command, std::function<void(const Response&)> each,
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
  // Checked before anything is sent: a server without CONDSTORE would answer
  // UNCHANGEDSINCE with BAD, or worse, ignore it and change messages unconditionally.
  if (req.unchangedSince && !conn->hasCap("CONDSTORE")) {
    fail(*out, "UNSUPPORTED", "unchangedSince needs CONDSTORE (RFC 7162), which the server does not offer");
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
        conn, chunks, [tail](const std::string& part) { return std::vector<std::string>{"UID STORE " + part + tail}; },
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
        conn, chunks, [](const std::string& set) { return std::vector<std::string>{"UID EXPUNGE " + set}; }, [](const Response&) {},
        [out, done](const Response* failed) {
          if (failed) fail(*out, "COMMAND_FAILED", describe(*failed));
          done(*out);
        });
  });
}

void copyMessages(LentClient* conn, CopyRequest req, std::function<void(ActionOutcome)> done) {
  auto out = std::make_shared<ActionOutcome>();
  auto set = UidSet::parse(req.uids);
  if (!set || set->empty()) {
    fail(*out, "COMMAND_FAILED", "not a UID set: " + req.uids);
    return done(*out);
  }
  bool moveCommand = req.move && conn->hasCap("MOVE");
  if (req.move && !moveCommand && !conn->hasCap("UIDPLUS")) {
    fail(*out, "UNSUPPORTED", "the server has neither MOVE nor UIDPLUS, so it cannot remove only these messages after copying");
    return done(*out);
  }
  auto chunks = std::make_shared<std::vector<std::string>>(set->toChunks(kMaxSetChars));
  std::string folder = req.folder;
  ensureSelected(conn, folder, [conn, req = std::move(req), chunks, out, done, moveCommand](const std::string& error) {
    if (!error.empty()) {
      fail(*out, "NOT_FOUND", "cannot select " + req.folder + ": " + error);
      return done(*out);
    }
    // COPYUID is in the tagged OK of a COPY and in an untagged OK before a
    // MOVE's expunges; the pool hands both to `codes`.
    conn->codes = [out](const ResponseCode& c) {
      if (c.name != "COPYUID" || c.args.size() < 3 || !c.args[0].isNumber()) return;
      out->uidValidity = toU32(c.args[0]);
      auto text = [](const Value& v) { return v.isNumber() ? std::to_string(v.num) : v.str; };
      out->copySource += (out->copySource.empty() ? "" : ",") + text(c.args[1]);
      out->copyDest += (out->copyDest.empty() ? "" : ",") + text(c.args[2]);
    };
    std::string dest = utf8ToMutf7(req.destination);
    bool nonSync = conn->nonSyncLiterals();
    sendChunks(
        conn, chunks,
        [dest, moveCommand, nonSync](const std::string& uids) {
          return CommandParts(moveCommand ? "UID MOVE" : "UID COPY", nonSync).atom(uids).astring(dest).take();
        },
        [](const Response&) {},
        [conn, req, out, done, moveCommand](const Response* failed) {
          conn->codes = nullptr;
          if (failed) {
            bool missing = failed->code && failed->code->name == "TRYCREATE";
            fail(*out, missing ? "TRYCREATE" : "COMMAND_FAILED",
                 missing ? "no folder " + req.destination + ": " + describe(*failed) : describe(*failed));
            return done(*out);
          }
          if (!req.move || moveCommand) return done(*out);
          deleteMessages(conn, req.folder, req.uids, [out, done](ActionOutcome removed) {
            if (!removed.errorCode.empty()) {
              out->errorCode = removed.errorCode;
              out->errorMessage = "copied, but not removed from the source: " + removed.errorMessage;
            }
            done(*out);
          });
        });
  });
}

void searchMessages(LentClient* conn, SearchRequest req, std::function<void(ActionOutcome)> done) {
  auto out = std::make_shared<ActionOutcome>();
  CommandParts cmd("UID SEARCH", conn->nonSyncLiterals());
  bool esearch = conn->hasCap("ESEARCH");
  if (esearch) cmd.atom("RETURN (ALL)");
  // 8-bit strings need CHARSET UTF-8 (RFC 3501 6.4.4); US-ASCII is the default.
  bool eightBit = std::any_of(req.criteria.begin(), req.criteria.end(), [](const SearchToken& t) {
    return t.kind == SearchToken::Kind::String &&
           std::any_of(t.text.begin(), t.text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  });
  if (eightBit) cmd.atom("CHARSET UTF-8");
  if (req.criteria.empty()) cmd.atom("ALL");
  for (const auto& t : req.criteria) {
    switch (t.kind) {
      case SearchToken::Kind::Open: cmd.open(); break;
      case SearchToken::Kind::Close: cmd.close(); break;
      case SearchToken::Kind::String: cmd.astring(t.text); break;
      case SearchToken::Kind::Atom:
        // lib/ sends keywords, numbers, dates and sets; anything else would be
        // syntax spliced into the command.
        if (t.text.empty() || !std::all_of(t.text.begin(), t.text.end(), atomChar)) {
          fail(*out, "COMMAND_FAILED", "not a search keyword: " + t.text);
          return done(*out);
        }
        if (iequals(t.text, "X-GM-RAW") && !conn->hasCap("X-GM-EXT-1")) {
          fail(*out, "UNSUPPORTED", "gmailRaw needs Gmail's X-GM-EXT-1");
          return done(*out);
        }
        cmd.atom(t.text);
        break;
    }
  }
  auto parts = std::make_shared<std::vector<std::string>>(cmd.take());
  ensureSelected(conn, req.folder, [conn, req, parts, out, done, esearch](const std::string& error) {
    if (!error.empty()) {
      fail(*out, "NOT_FOUND", "cannot select " + req.folder + ": " + error);
      return done(*out);
    }
    auto found = std::make_shared<UidSet>();
    conn->untagged = [found, esearch](const Response& r) {
      if (r.keyword == "SEARCH" && !esearch) {
        for (const auto& v : r.args)
          if (v.isNumber() && toU32(v)) found->add(toU32(v));
      } else if (r.keyword == "ESEARCH") {
        // (TAG "x") UID ALL set: the set follows ALL.
        for (size_t i = 0; i + 1 < r.args.size(); ++i)
          if (r.args[i].atomIs("ALL")) {
            const Value& v = r.args[i + 1];
            if (auto s = UidSet::parse(v.isNumber() ? std::to_string(v.num) : v.str)) found->addAll(*s);
          }
      }
    };
    conn->send(*parts, [conn, out, done, found](const Response& r) {
      conn->untagged = nullptr;
      if (r.status != "OK") fail(*out, "COMMAND_FAILED", describe(r));
      else out->found = found->toString();
      done(*out);
    });
  });
}

}  // namespace imap
