// Changes to mailboxes themselves, on a lent (pooled) connection: APPEND,
// CREATE/RENAME/DELETE/SUBSCRIBE/UNSUBSCRIBE, and QUOTA. Answered as an
// ActionOutcome, like the message actions in imap/actions.h.
#pragma once

#include <functional>

#include "imap/actions.h"
#include "imap/lent_client.h"
#include "model/actions.h"

namespace imap {

// APPEND with the message as one literal. The new UID comes from APPENDUID
// (UIDPLUS); without it, from a search for the Message-ID, when there is one.
// A missing folder is TRYCREATE.
void appendMessage(LentClient* conn, AppendRequest req, std::function<void(ActionOutcome)> done);

// NOT_FOUND for a folder that does not exist ([NONEXISTENT]), COMMAND_FAILED
// for any other NO, with the server's text.
void folderCommand(LentClient* conn, FolderRequest req, std::function<void(ActionOutcome)> done);

// GETQUOTAROOT (RFC 9208); UNSUPPORTED without QUOTA.
void getQuota(LentClient* conn, std::string folder, std::function<void(ActionOutcome)> done);

}  // namespace imap
