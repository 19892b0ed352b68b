// Charset conversion to UTF-8 (iconv) and the repair of unlabelled 8-bit text.
#pragma once

#include <string>
#include <string_view>

namespace imap {

// Converts bytes in `charset` to UTF-8 with iconv. Returns false for an
// unknown charset. Invalid sequences become U+FFFD.
bool toUtf8(std::string_view charset, std::string_view in, std::string& out);

// Unlabelled 8-bit header text: appended as is when it is well-formed UTF-8,
// otherwise read as Latin-1.
void appendPlain(std::string_view s, std::string& out);

}  // namespace imap
