#include "sync/deliveries.h"

namespace imap {

Event folderEvent(Event::Type t, const FolderRuntime& rt) {
  return Event::of(t, rt.accountId, rt.folder);
}

bool mayExist(const FolderRuntime& rt, uint32_t uid) {
  if (uid == 0 || uid >= rt.fs.uidNext || rt.gone.contains(uid)) return false;
  return !rt.knownValid || rt.known.contains(uid);
}

uint64_t reportDeletions(FolderRuntime& rt, const UidSet& uids, const std::function<void(Event&&)>& emit) {
  UidSet reported;  // UIDs at or above the watermark were never reported
  if (rt.fs.uidNext > 1) reported.addRange(1, rt.fs.uidNext - 1);
  UidSet fresh = rt.claimGone(uids.intersect(reported));
  if (!rt.knownValid && fresh.size() > kMaxUncheckedDeletions) return 0;
  fresh.forEach([&](uint32_t uid) {
    Event e = folderEvent(Event::Type::MessageDeleted, rt);
    e.uid = uid;
    emit(std::move(e));
  });
  return fresh.size();
}

Event newMessageEvent(FolderRuntime& rt, uint32_t seq, const FetchItems& f) {
  Event e = folderEvent(Event::Type::NewMessage, rt);
  fillNewMessage(e, seq, f, rt.fs.uidValidity);
  rt.flagWindow[f.uid] = joinFlags(e.flags);  // the sync trims it to the newest
  return e;
}

}  // namespace imap
