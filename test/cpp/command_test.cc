#include <gtest/gtest.h>

#include "imap/command.h"

using imap::CommandParts;

// A value the user typed must reach the server as one string, whatever it
// holds: quoted when that can carry it, else a literal.
TEST(CommandParts, StringsAreQuotedOrLiterals) {
  auto plain = CommandParts("UID SEARCH", false).atom("SUBJECT").astring("x\" OR ALL \"").take();
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0], "UID SEARCH SUBJECT \"x\\\" OR ALL \\\"\"");
  auto sync = CommandParts("UID SEARCH", false).atom("CHARSET UTF-8").atom("SUBJECT").astring("Caf\xc3\xa9").atom("SEEN").take();
  ASSERT_EQ(sync.size(), 2u);  // a synchronizing literal waits for the server's '+'
  EXPECT_EQ(sync[0], "UID SEARCH CHARSET UTF-8 SUBJECT {5}\r\n");
  EXPECT_EQ(sync[1], "Caf\xc3\xa9 SEEN");
  auto nonSync = CommandParts("UID COPY", true).atom("1:3").astring("a\r\nb").take();
  ASSERT_EQ(nonSync.size(), 1u);
  EXPECT_EQ(nonSync[0], "UID COPY 1:3 {4+}\r\na\r\nb");
}

TEST(CommandParts, GroupsHaveNoInnerSpaces) {
  auto parts = CommandParts("UID SEARCH", false).atom("OR").open().atom("SEEN").atom("FLAGGED").close().open().atom("NOT")
                   .open().atom("DRAFT").close().close().take();
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0], "UID SEARCH OR (SEEN FLAGGED) (NOT (DRAFT))");
}
