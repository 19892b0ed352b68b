// Changes the app makes to mail on a lent (pooled) connection: flags and
// deletion, so far. The IDLE connections never run these; the changes come
// back to the app as the same events another client's change would cause,
// from the IDLE watcher, so nothing is reported twice.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "imap/lent_client.h"
#include "model/actions.h"

namespace imap {

struct ActionOutcome {
  uint64_t modseq = 0;   // the highest MODSEQ the server reported, 0 if none
  std::string modified;  // RFC 7162 [MODIFIED set]: UIDs a conditional STORE left alone
  // COPYUID (RFC 4315) of a copy or move: the destination's UIDVALIDITY and
  // the source and destination sets, in matching order (one per chunk, joined).
  uint32_t uidValidity = 0;  // COPYUID's or APPENDUID's destination UIDVALIDITY
  std::string copySource, copyDest;
  uint32_t uid = 0;          // APPEND: the new message's UID, 0 if unknown
  std::vector<QuotaRoot> quota;
  // downloadPart: the decoded bytes, whether they were cut at maxBytes, and
  // the part's type ("image/png") and transfer encoding.
  std::shared_ptr<const std::string> data;
  bool truncated = false;
  std::string partType, partEncoding;
  std::string found;     // SEARCH: the matching UIDs as a canonical set
  // NOT_FOUND (the folder cannot be selected), COMMAND_FAILED (the server said
  // NO or BAD), UNSUPPORTED (a capability the action needs is missing),
  // TRYCREATE (a copy's destination does not exist).
  std::string errorCode, errorMessage;

  static ActionOutcome error(std::string code, std::string message) {
    ActionOutcome o;
    o.errorCode = std::move(code);
    o.errorMessage = std::move(message);
    return o;
  }
};

// A flag the command line may carry as is: an atom, or "\" and an atom
// (RFC 3501 flag). Anything else could smuggle syntax into the command.
bool validFlag(const std::string& flag);

// UID STORE, .SILENT (flags come back through IDLE), with UNCHANGEDSINCE when set.
void storeFlags(LentClient* conn, StoreRequest req, std::function<void(ActionOutcome)> done);

// Marks exactly `uids` \Deleted and UID EXPUNGEs exactly them (RFC 4315).
// Without UIDPLUS it refuses (UNSUPPORTED): a plain EXPUNGE would also
// remove messages other clients had marked \Deleted.
void deleteMessages(LentClient* conn, std::string folder, std::string uids, std::function<void(ActionOutcome)> done);

// UID COPY / UID MOVE into `destination`, with the COPYUID mapping where the
// server gives one. A move without MOVE copies, then deletes as above.
void copyMessages(LentClient* conn, CopyRequest req, std::function<void(ActionOutcome)> done);

// UID SEARCH (RETURN (ALL) with ESEARCH, CHARSET UTF-8 when a string needs it).
void searchMessages(LentClient* conn, SearchRequest req, std::function<void(ActionOutcome)> done);

}  // namespace imap
