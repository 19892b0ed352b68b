// Reading FETCH/VANISHED data into events: shared by the IDLE watcher and
// the sync, which must report a message identically whichever sees it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/events.h"
#include "core/parser.h"
#include "core/uidset.h"

namespace imap {

extern const char* const kNewMessageItems;  // what a newMessage event needs
extern const char* const kNewMessageItemsModseq;  // the same and MODSEQ, for CONDSTORE sessions

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
std::vector<std::string> flagList(const Value& v);
std::string joinFlags(const std::vector<std::string>& flags);
std::vector<std::string> splitFlags(const std::string& joined);
// The value after the FETCH item whose name starts with `prefix` ("UID",
// "BODY[HEADER]", "BINARY["), compared case-insensitively; null when absent.
const Value* fetchItem(const Value& items, std::string_view prefix);
// "NO [CODE] text", for error messages.
std::string describe(const Response& r);
// Fills uid, seq, flags, size, dates and the decoded envelope.
void fillNewMessage(Event& e, uint32_t seq, const FetchItems& items, uint32_t uidValidity);
// Fills type, uid, seq, modseq and flags of a flagsChanged event.
void fillFlagsChanged(Event& e, uint32_t seq, const FetchItems& items);
// The UIDs of "* VANISHED [(EARLIER)] set"; nullopt when malformed.
std::optional<UidSet> vanishedUids(const std::vector<Value>& args, bool& earlier);

}  // namespace imap
