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
  conn->send(conn->astringArgs("SELECT", {wire}), [conn, wire, done = std::move(done)](const Response& r) {
    if (r.status != "OK") {
      conn->selected.clear();
      return done(describe(r));
    }
    conn->selected = wire;
    done({});
  });
}

}  // namespace imap
