// What the app asks to change in a mailbox, as the binding hands it over.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace imap {

struct StoreRequest {
  enum class Op { Add, Remove, Set };
  std::string folder;  // UTF-8
  std::string uids;    // a UID set, already canonical (UidSet::toString)
  Op op = Op::Add;
  std::vector<std::string> flags;  // atoms or \System flags, checked by validFlag
  uint64_t unchangedSince = 0;     // 0: unconditional (RFC 7162 UNCHANGEDSINCE otherwise)
};

}  // namespace imap
