#include <gtest/gtest.h>

#include "imap/actions.h"

using imap::validFlag;

// A flag goes into the STORE command line as is, so anything that is not an
// RFC 3501 flag must be refused before it could add syntax to the command.
TEST(Actions, ValidFlagsAreAtomsOrSystemFlags) {
  for (const char* ok : {"\\Seen", "\\Deleted", "$Processed", "Junk", "$label1", "a.b-c_d"}) EXPECT_TRUE(validFlag(ok)) << ok;
  for (const char* bad : {"", "\\", "two words", "a)", "(a", "x\r\nA1 LOGOUT", "q\"", "\\\\Seen", "a]", "{5}", "*", "%", "caf\xc3\xa9"})
    EXPECT_FALSE(validFlag(bad)) << bad;
  EXPECT_FALSE(validFlag(std::string(300, 'a')));
}
