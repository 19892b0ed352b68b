// RFC 2047 encoded words in header text.
#pragma once

#include <string>
#include <string_view>

namespace imap {

// Decodes RFC 2047 encoded words ("=?charset?B|Q?...?=") into UTF-8,
// converting charsets with iconv. Whitespace between adjacent encoded words
// is dropped, as RFC 2047 requires. Undecodable words are left as they are.
// Invalid UTF-8 in non-encoded text is kept as-is when it is valid UTF-8,
// otherwise interpreted as Latin-1.
std::string decodeWords(std::string_view in);

}  // namespace imap
