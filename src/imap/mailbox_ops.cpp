#include "imap/mailbox_ops.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/mutf7.h"
#include "imap/command.h"
#include "imap/fetch.h"
#include "imap/select.h"

namespace imap {

namespace {

bool hasCode(const Response& r, const char* name) { return r.code && r.code->name == name; }

void finishWith(const std::shared_ptr<ActionOutcome>& out, const std::function<void(ActionOutcome)>& done,
                const char* code, std::string message) {
  out->errorCode = code;
  out->errorMessage = std::move(message);
  done(*out);
}

// Without APPENDUID: the folder's UIDVALIDITY from STATUS, then the highest
// UID carrying the Message-ID. Either failing leaves the UID unknown (0): the
// message was appended all the same.
void findAppended(LentClient* conn, const AppendRequest& req, std::shared_ptr<ActionOutcome> out,
                  std::function<void(ActionOutcome)> done) {
  std::string wire = utf8ToMutf7(req.folder);
  auto status = CommandParts("STATUS", conn->nonSyncLiterals()).astring(wire).atom("(UIDVALIDITY)").take();
  conn->untagged = [out](const Response& r) {
    if (r.keyword != "STATUS" || r.args.size() < 2 || !r.args[1].isList()) return;
    const auto& items = r.args[1].list;
    for (size_t i = 0; i + 1 < items.size(); ++i)
      if (items[i].atomIs("UIDVALIDITY")) out->uidValidity = toU32(items[i + 1]);
  };
  conn->send(status, [conn, req, out, done](const Response&) {
    conn->untagged = nullptr;
    // A selection made before the APPEND may not show the message yet: NOOP first.
    bool wasSelected = isSelected(conn, req.folder);
    auto search = [conn, req, out, done](const std::string& error) {
      if (!error.empty()) return done(*out);
      auto cmd = CommandParts("UID SEARCH", conn->nonSyncLiterals()).atom("HEADER").astring("Message-ID").astring(req.messageId).take();
      conn->untagged = [out](const Response& r) {
        if (r.keyword != "SEARCH") return;
        for (const auto& v : r.args)
          if (v.isNumber()) out->uid = std::max(out->uid, toU32(v));
      };
      conn->send(cmd, [conn, out, done](const Response&) {
        conn->untagged = nullptr;
        done(*out);
      });
    };
    if (!wasSelected) return ensureSelected(conn, req.folder, search);
    conn->send("NOOP", [search](const Response&) { search({}); });
  });
}

}  // namespace

void appendMessage(LentClient* conn, AppendRequest req, std::function<void(ActionOutcome)> done) {
  auto out = std::make_shared<ActionOutcome>();
  for (const auto& f : req.flags)
    if (!validFlag(f)) return finishWith(out, done, "COMMAND_FAILED", "not an IMAP flag: " + f);
  CommandParts cmd("APPEND", conn->nonSyncLiterals());
  cmd.astring(utf8ToMutf7(req.folder));
  if (!req.flags.empty()) {
    cmd.open();
    for (const auto& f : req.flags) cmd.atom(f);
    cmd.close();
  }
  if (!req.internalDate.empty()) cmd.astring(req.internalDate);  // always quotable: lib/ formats it
  // The message is always a literal, whatever it holds.
  auto parts = cmd.take();
  bool nonSync = conn->nonSyncLiterals();
  parts.back() += " {" + std::to_string(req.raw.size()) + (nonSync ? "+}\r\n" : "}\r\n");
  if (nonSync) parts.back() += req.raw;
  else parts.push_back(req.raw);
  conn->codes = [out](const ResponseCode& c) {
    if (c.name == "APPENDUID" && c.args.size() >= 2) {
      out->uidValidity = toU32(c.args[0]);
      out->uid = toU32(c.args[1]);
    }
  };
  auto request = std::make_shared<AppendRequest>(std::move(req));
  request->raw.clear();  // sent; only the names are needed from here
  conn->send(std::move(parts), [conn, request, out, done](const Response& r) {
    conn->codes = nullptr;
    if (r.status != "OK") {
      if (hasCode(r, "TRYCREATE")) return finishWith(out, done, "TRYCREATE", "no folder " + request->folder + ": " + describe(r));
      return finishWith(out, done, "COMMAND_FAILED", describe(r));
    }
    if (out->uid || request->messageId.empty()) return done(*out);
    findAppended(conn, *request, out, done);
  });
}

void folderCommand(LentClient* conn, FolderRequest req, std::function<void(ActionOutcome)> done) {
  auto out = std::make_shared<ActionOutcome>();
  using Op = FolderRequest::Op;
  const char* verb = req.op == Op::Create ? "CREATE" : req.op == Op::Rename ? "RENAME" : req.op == Op::Delete ? "DELETE"
                     : req.op == Op::Subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
  CommandParts cmd(verb, conn->nonSyncLiterals());
  cmd.astring(utf8ToMutf7(req.path));
  if (req.op == Op::Rename) cmd.astring(utf8ToMutf7(req.to));
  // A deleted or renamed folder cannot stay this connection's selection.
  if ((req.op == Op::Delete || req.op == Op::Rename) && isSelected(conn, req.path)) conn->selected.clear();
  conn->send(cmd.take(), [out, done, path = req.path](const Response& r) {
    if (r.status == "OK") return done(*out);
    if (hasCode(r, "NONEXISTENT")) return finishWith(out, done, "NOT_FOUND", "no folder " + path + ": " + describe(r));
    finishWith(out, done, "COMMAND_FAILED", describe(r));
  });
}

void getQuota(LentClient* conn, std::string folder, std::function<void(ActionOutcome)> done) {
  auto out = std::make_shared<ActionOutcome>();
  if (!conn->hasCap("QUOTA")) return finishWith(out, done, "UNSUPPORTED", "the server has no QUOTA extension");
  // * QUOTAROOT mbox root...  then  * QUOTA root (NAME usage limit ...).
  // A server cannot make the answer grow past kMax roots and resources.
  constexpr size_t kMax = 16;
  conn->untagged = [out](const Response& r) {
    if (r.keyword == "QUOTAROOT") {
      for (size_t i = 1; i < r.args.size() && out->quota.size() < kMax; ++i)
        if (r.args[i].isText()) out->quota.push_back({r.args[i].str, {}});
    } else if (r.keyword == "QUOTA" && r.args.size() >= 2 && r.args[0].isText() && r.args[1].isList()) {
      QuotaRoot* root = nullptr;
      for (auto& q : out->quota)
        if (q.root == r.args[0].str) root = &q;
      if (!root) {
        if (out->quota.size() >= kMax) return;
        out->quota.push_back({r.args[0].str, {}});
        root = &out->quota.back();
      }
      const auto& items = r.args[1].list;
      for (size_t i = 0; i + 2 < items.size() && root->resources.size() < kMax; i += 3)
        if (items[i].isText() && items[i + 1].isNumber() && items[i + 2].isNumber())
          root->resources.push_back({upper(items[i].str), items[i + 1].num, items[i + 2].num});
    }
  };
  auto cmd = CommandParts("GETQUOTAROOT", conn->nonSyncLiterals()).astring(utf8ToMutf7(folder)).take();
  conn->send(cmd, [conn, out, done, folder](const Response& r) {
    conn->untagged = nullptr;
    if (r.status == "OK") return done(*out);
    out->quota.clear();
    if (hasCode(r, "NONEXISTENT")) return finishWith(out, done, "NOT_FOUND", "no folder " + folder + ": " + describe(r));
    finishWith(out, done, "COMMAND_FAILED", describe(r));
  });
}

}  // namespace imap
