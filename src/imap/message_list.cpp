#include "imap/message_list.h"

#include <memory>
#include <utility>

#include "core/uidset.h"
#include "imap/fetch.h"
#include "imap/select.h"

namespace imap {

void listMessages(LentClient* conn, ListRequest req, std::function<void(Event)> item, std::function<void(ActionOutcome)> done) {
  auto out = std::make_shared<ActionOutcome>();
  auto wanted = UidSet::parse(req.uids);
  if (!wanted || wanted->empty()) {
    out->errorCode = "COMMAND_FAILED";
    out->errorMessage = "not a UID set: " + req.uids;
    return done(*out);
  }
  auto pending = std::make_shared<UidSet>(std::move(*wanted));
  std::string folder = req.folder;
  ensureSelected(conn, folder, [conn, req = std::move(req), pending, item = std::move(item), out, done](const std::string& error) {
    if (!error.empty()) {
      out->errorCode = "NOT_FOUND";
      out->errorMessage = "cannot select " + req.folder + ": " + error;
      return done(*out);
    }
    conn->untagged = [conn, pending, item, folder = req.folder, bodyStructure = req.bodyStructure, headers = req.headers](const Response& r) {
      if (r.keyword != "FETCH" || r.args.empty()) return;
      FetchItems f = parseFetchItems(r.args[0]);
      // Another client's flag change also arrives as FETCH: only answers
      // with an envelope, for a UID asked for and not yet given, count.
      if (!f.uid || f.badUid || !f.envelope || !pending->contains(f.uid)) return;
      pending->remove(f.uid);
      Event e = Event::of(Event::Type::MessageListed, {}, folder);
      fillNewMessage(e, r.number ? static_cast<uint32_t>(*r.number) : 0, f, conn->selectedUidValidity);
      e.type = Event::Type::MessageListed;  // fillNewMessage makes it a NewMessage
      if (bodyStructure)
        if (const Value* bs = fetchItem(r.args[0], "BODYSTRUCTURE")) e.bodyStructure = std::make_shared<const Value>(*bs);
      if (headers)
        if (const Value* h = fetchItem(r.args[0], "BODY[HEADER]"); h && h->isText()) e.headers = h->str;
      item(std::move(e));
    };
    std::string items = "UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE";
    if (req.bodyStructure) items += " BODYSTRUCTURE";
    if (req.headers) items += " BODY.PEEK[HEADER]";
    conn->send("UID FETCH " + pending->toString() + " (" + items + ")",
               [conn, out, done](const Response& r) {
                 conn->untagged = nullptr;
                 if (r.status != "OK") {
                   out->errorCode = "COMMAND_FAILED";
                   out->errorMessage = describe(r);
                 }
                 done(*out);
               });
  });
}

}  // namespace imap
