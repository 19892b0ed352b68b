// STATUS (RFC 3501 6.3.10): a folder's counts without selecting it, as the
// sync's cheap "anything new?" check and as folderChanged / folderStatus.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "imap/actions.h"
#include "imap/lent_client.h"

namespace imap {

struct StatusItems {
  uint32_t messages = 0, uidNext = 0, uidValidity = 0, unseen = 0;
  uint64_t highestModseq = 0;
};

// Reads a "* STATUS mailbox (ITEM n ...)" response into `out` (items it
// does not name stay as they were); false when `r` is not one.
bool readStatus(const Response& r, StatusItems& out);

// STATUS (MESSAGES UIDNEXT UNSEEN [HIGHESTMODSEQ]) of `folderUtf8`: `done`
// gets the counts, or NOT_FOUND when the server refuses (no such folder),
// PROTOCOL_ERROR when it answers OK without a STATUS response.
void folderStatus(LentClient* conn, const std::string& folderUtf8, std::function<void(ActionOutcome)> done);

}  // namespace imap
