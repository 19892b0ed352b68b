// What IDLE and sync both report about a folder, built from its runtime
// state, so a message is announced identically whichever sees it first.
#pragma once

#include <cstdint>
#include <functional>

#include "core/uidset.h"
#include "imap/fetch.h"
#include "model/events.h"
#include "sync/folder.h"

namespace imap {

// An event of type `t` about the runtime's account and folder.
Event folderEvent(Event::Type t, const FolderRuntime& rt);
// Whether `uid` may be a message the engine reported: below the watermark,
// not deleted, and on the UID list when there is one. A FETCH about any
// other UID names a message never announced.
bool mayExist(const FolderRuntime& rt, uint32_t uid);

// Without a UID list, a deletion the server names cannot be checked, so it is
// reported as is; past this many in one response the server is naming UIDs,
// not messages, and they are only remembered as gone.
constexpr uint64_t kMaxUncheckedDeletions = 10000;

// Reports, once, the deletion of each UID in `uids` the engine knows of, and
// returns how many. Costs the ranges of `uids` plus one event per UID the
// engine knew: a "1:4294967295" from the server never expands.
uint64_t reportDeletions(FolderRuntime& rt, const UidSet& uids, const std::function<void(Event&&)>& emit);

// The newMessage event for a UID just claimed (FolderRuntime::claimNew),
// built alike by IDLE and sync; remembers its flags for later comparisons.
Event newMessageEvent(FolderRuntime& rt, uint32_t seq, const FetchItems& f);

}  // namespace imap
