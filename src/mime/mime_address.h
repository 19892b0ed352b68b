// RFC 5322 address lists as found in real mail, not only as specified.
#pragma once

#include <string_view>
#include <vector>

#include "text/address.h"

namespace imap::mime {

// Parses From/To/Cc/... values. Handles quoted and RFC 2047 encoded display
// names (also inside quotes, as some mailers send them), comments (used as
// the name when there is no phrase: "a@b (Ann)"), groups (members are kept,
// the group name is dropped, as decodeEnvelope does), obsolete routes, and
// an unquoted comma in a display name ("Doe, John <j@d>"). A word without
// '@' and without angle brackets is kept as a name-only entry or, when it is
// a single token, as a local mailbox.
std::vector<Address> parseAddressList(std::string_view field);

}  // namespace imap::mime
