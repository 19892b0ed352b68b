// A mail address as headers and ENVELOPE give it, decoded to UTF-8.
#pragma once

#include <string>

namespace imap {

struct Address {
  std::string name;     // display name, RFC 2047-decoded, UTF-8
  std::string address;  // mailbox@host (or just mailbox when host is NIL)
};

}  // namespace imap
