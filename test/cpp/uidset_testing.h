// UidSet helpers shared by the unit tests.
#pragma once

#include <gtest/gtest.h>

#include <ostream>

#include "core/uidset.h"

namespace imap {

// Failures print the set, not its bytes.
inline void PrintTo(const UidSet& s, std::ostream* os) { *os << '"' << s.toString() << '"'; }

// A set from its IMAP text, which must parse.
inline UidSet P(const char* s) {
  auto r = UidSet::parse(s);
  EXPECT_TRUE(r.has_value()) << s;
  return r ? *r : UidSet();
}

}  // namespace imap
