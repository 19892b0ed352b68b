// RFC 4648 base64, used by SASL and by RFC 2047 "B" words.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace imap {

std::string base64Encode(std::string_view in);
// Returns nullopt on invalid input (bad characters or length). Whitespace is
// not accepted.
std::optional<std::string> base64Decode(std::string_view in);

}  // namespace imap
