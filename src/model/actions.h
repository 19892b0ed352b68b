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

// COPY, or MOVE (RFC 6851; without it COPY, then \Deleted and UID EXPUNGE
// of exactly those UIDs, which needs UIDPLUS).
struct CopyRequest {
  std::string folder, destination;  // UTF-8
  std::string uids;                 // canonical UID set
  bool move = false;
};

// SEARCH criteria as lib/ compiled them: keywords, numbers, dates and sets
// are atoms; anything a user typed is a String, sent quoted or as a literal.
struct SearchToken {
  enum class Kind { Atom, String, Open, Close };
  Kind kind = Kind::Atom;
  std::string text;
};

struct SearchRequest {
  std::string folder;  // UTF-8
  std::vector<SearchToken> criteria;
};

}  // namespace imap
