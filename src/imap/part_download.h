// One body part of a message, decoded (engine.downloadPart()): BINARY.PEEK
// where the server offers BINARY (RFC 3516), else BODY.PEEK and the
// transfer encoding undone here, found from BODYSTRUCTURE.
#pragma once

#include <functional>

#include "imap/actions.h"
#include "imap/lent_client.h"
#include "model/actions.h"

namespace imap {

// NOT_FOUND for a message or part that is not there (or a message/rfc822
// sub-part, not addressed yet); the bytes are cut at req.maxBytes.
void downloadPart(LentClient* conn, PartRequest req, std::function<void(ActionOutcome)> done);

}  // namespace imap
