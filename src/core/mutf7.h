// RFC 3501 5.1.3 modified UTF-7 for mailbox names: applications speak UTF-8,
// IMAP4rev1 servers expect this encoding on the wire.
#pragma once

#include <string>
#include <string_view>

namespace imap {

std::string utf8ToMutf7(std::string_view utf8);
// Invalid input is returned unchanged.
std::string mutf7ToUtf8(std::string_view mutf7);

}  // namespace imap
