// Reading FETCH/VANISHED data into events: shared by the IDLE watcher and
// the sync, which must report a message identically whichever sees it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "events.h"
#include "folder.h"
#include "parser.h"
#include "uidset.h"

namespace imap {

extern const char* const kNewMessageItems;  // what a newMessage event needs

struct FetchItems {
  uint32_t uid = 0;     // 0: no UID item
  bool badUid = false;  // a UID item that is no UID (0, or past 32 bits): ignore the response
  const Value* flags = nullptr;
  const Value* envelope = nullptr;
  const Value* internalDate = nullptr;
  uint64_t size = 0;
  uint64_t modseq = 0;
};

FetchItems parseFetchItems(const Value& list);
// An event of type `t` about the runtime's account and folder.
Event folderEvent(Event::Type t, const FolderRuntime& rt);
std::vector<std::string> flagList(const Value& v);
std::string joinFlags(const std::vector<std::string>& flags);
std::vector<std::string> splitFlags(const std::string& joined);
// "NO [CODE] text", for error messages.
std::string describe(const Response& r);
// Fills uid, seq, flags, size, dates and the decoded envelope.
void fillNewMessage(Event& e, uint32_t seq, const FetchItems& items, uint32_t uidValidity);
// Fills type, uid, seq, modseq and flags of a flagsChanged event.
void fillFlagsChanged(Event& e, uint32_t seq, const FetchItems& items);
// The UIDs of "* VANISHED [(EARLIER)] set"; nullopt when malformed.
std::optional<UidSet> vanishedUids(const std::vector<Value>& args, bool& earlier);

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

}  // namespace imap
