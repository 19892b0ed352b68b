// Paging through a folder (engine.messages()): one batch of UIDs fetched
// with what a message list shows, each message handed on as it arrives.
#pragma once

#include <functional>
#include <string>

#include "imap/actions.h"
#include "imap/lent_client.h"
#include "model/actions.h"
#include "model/events.h"

namespace imap {

// UID FETCH (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE): `item` gets one
// MessageListed event (the newMessage fields) per requested UID the server
// answers, at most once each; unsolicited or repeated FETCHes are skipped.
void listMessages(LentClient* conn, ListRequest req, std::function<void(Event)> item, std::function<void(ActionOutcome)> done);

}  // namespace imap
