// Byte-level decoding for MIME bodies: Content-Transfer-Encoding (base64 by
// hand, quoted-printable through mimetic's codec) and charset conversion to
// UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace imap::mime {

// Undoes base64 or quoted-printable; any other encoding (7bit, 8bit, binary,
// unknown) returns the bytes unchanged. Malformed input is decoded as far as
// it goes: stray characters are skipped, a truncated base64 tail is padded.
std::string decodeTransfer(std::string_view encoding, std::string_view body);

// Converts text in `charset` to UTF-8. An empty, US-ASCII or unknown charset
// is guessed: the bytes are kept when they are valid UTF-8, else read as
// Windows-1252 (the WHATWG reading of Latin-1).
std::string textToUtf8(std::string_view charset, std::string_view bytes);

}  // namespace imap::mime
