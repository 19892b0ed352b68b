#include "imap/status.h"

#include <memory>

#include "core/mutf7.h"
#include "imap/fetch.h"
#include "imap/select.h"

namespace imap {

bool readStatus(const Response& r, StatusItems& out) {
  if (r.keyword != "STATUS" || r.args.size() < 2 || !r.args[1].isList()) return false;
  const auto& l = r.args[1].list;
  for (size_t i = 0; i + 1 < l.size(); i += 2) {
    if (l[i].atomIs("MESSAGES")) out.messages = toU32(l[i + 1]);
    else if (l[i].atomIs("UIDNEXT")) out.uidNext = toU32(l[i + 1]);
    else if (l[i].atomIs("UIDVALIDITY")) out.uidValidity = toU32(l[i + 1]);
    else if (l[i].atomIs("UNSEEN")) out.unseen = toU32(l[i + 1]);
    else if (l[i].atomIs("HIGHESTMODSEQ") && l[i + 1].isNumber()) out.highestModseq = l[i + 1].num;
  }
  return true;
}

namespace {

void askStatus(LentClient* conn, const std::string& folderUtf8, std::function<void(ActionOutcome)> done) {
  bool condstore = conn->hasCap("CONDSTORE") || conn->qresync;
  auto items = std::make_shared<StatusItems>();
  auto seen = std::make_shared<bool>(false);
  conn->untagged = [items, seen](const Response& r) {
    if (readStatus(r, *items)) *seen = true;
  };
  auto parts = conn->astringArgs("STATUS", {utf8ToMutf7(folderUtf8)});
  parts.back() += condstore ? " (MESSAGES UIDNEXT UNSEEN HIGHESTMODSEQ)" : " (MESSAGES UIDNEXT UNSEEN)";
  conn->send(std::move(parts), [conn, folderUtf8, items, seen, done = std::move(done)](const Response& r) {
    conn->untagged = nullptr;
    if (r.status != "OK")
      return done(ActionOutcome::error(r.status == "NO" ? "NOT_FOUND" : "COMMAND_FAILED",
                                       "STATUS " + folderUtf8 + ": " + describe(r)));
    if (!*seen) return done(ActionOutcome::error("PROTOCOL_ERROR", "STATUS " + folderUtf8 + " answered without counts"));
    ActionOutcome out;
    out.counts = FolderCounts{items->messages, items->unseen, items->uidNext, items->highestModseq};
    done(out);
  });
}

}  // namespace

void folderStatus(LentClient* conn, const std::string& folderUtf8, std::function<void(ActionOutcome)> done) {
  // STATUS of the selected mailbox may answer from the session's own, older
  // view (RFC 3501 6.3.10 says not to): leave it first where the server lets
  // us without expunging (CLOSE would). Without UNSELECT the server's answer
  // is taken as it is; the counts are at worst as old as that selection.
  if (!isSelected(conn, folderUtf8) || !conn->hasCap("UNSELECT")) return askStatus(conn, folderUtf8, std::move(done));
  conn->send("UNSELECT", [conn, folderUtf8, done = std::move(done)](const Response& r) mutable {
    if (r.status == "OK") {
      conn->selected.clear();
      conn->selectedUidValidity = 0;
    }
    askStatus(conn, folderUtf8, std::move(done));
  });
}

}  // namespace imap
