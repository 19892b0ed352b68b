#include "imap/select.h"

#include <memory>

#include "core/mutf7.h"
#include "imap/fetch.h"

namespace imap {

bool isSelected(const LentClient* conn, const std::string& folderUtf8) {
  return !conn->selected.empty() && conn->selected == utf8ToMutf7(folderUtf8);
}

void ensureSelected(LentClient* conn, const std::string& folderUtf8, std::function<void(const std::string& error)> done) {
  if (isSelected(conn, folderUtf8)) return done({});
  std::string wire = utf8ToMutf7(folderUtf8);
  // The job's own hook, if it set one, comes back once the SELECT is answered.
  auto jobCodes = std::make_shared<std::function<void(const ResponseCode&)>>(std::move(conn->codes));
  conn->selectedUidValidity = 0;
  conn->codes = [conn, jobCodes](const ResponseCode& c) {
    if (c.name == "UIDVALIDITY" && !c.args.empty()) conn->selectedUidValidity = toU32(c.args[0]);
    if (*jobCodes) (*jobCodes)(c);
  };
  auto parts = conn->astringArgs("SELECT", {wire});
  // As the sync selects (sync/sync.cpp): with CONDSTORE on, every STORE reports
  // its MODSEQ, whichever pooled connection runs it (RFC 7162 3.1.8).
  if (conn->hasCap("CONDSTORE") && !conn->qresync) parts.back() += " (CONDSTORE)";
  conn->send(std::move(parts), [conn, wire, jobCodes, done = std::move(done)](const Response& r) {
    conn->codes = std::move(*jobCodes);
    if (r.status != "OK") {
      conn->selected.clear();
      return done(describe(r));
    }
    conn->selected = wire;
    done({});
  });
}

}  // namespace imap
