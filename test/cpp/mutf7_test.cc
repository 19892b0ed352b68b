#include <gtest/gtest.h>

#include "mutf7.h"

using imap::mutf7ToUtf8;
using imap::utf8ToMutf7;

TEST(Mutf7, AsciiPassesThroughAndAmpersandIsEscaped) {
  EXPECT_EQ(utf8ToMutf7("INBOX"), "INBOX");
  EXPECT_EQ(utf8ToMutf7("Tom & Jerry"), "Tom &- Jerry");
  EXPECT_EQ(mutf7ToUtf8("Tom &- Jerry"), "Tom & Jerry");
}

TEST(Mutf7, Rfc3501Example) {
  // RFC 3501 5.1.3: "~peter/mail/台北/日本語"
  const std::string utf8 = "~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";
  EXPECT_EQ(utf8ToMutf7(utf8), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(mutf7ToUtf8("~peter/mail/&U,BTFw-/&ZeVnLIqe-"), utf8);
}

TEST(Mutf7, CommonFolderNames) {
  EXPECT_EQ(utf8ToMutf7("Entw\xC3\xBC" "rfe"), "Entw&APw-rfe");
  EXPECT_EQ(utf8ToMutf7("\xD0\x92\xD1\x85\xD0\xBE\xD0\xB4\xD1\x8F\xD1\x89\xD0\xB8\xD0\xB5"), "&BBIERQQ+BDQETwRJBDgENQ-");
  EXPECT_EQ(mutf7ToUtf8("&BBIERQQ+BDQETwRJBDgENQ-"), "\xD0\x92\xD1\x85\xD0\xBE\xD0\xB4\xD1\x8F\xD1\x89\xD0\xB8\xD0\xB5");
}

TEST(Mutf7, AstralPlaneUsesSurrogatePairs) {
  const std::string emoji = "\xF0\x9F\x93\xA7";  // U+1F4E7
  std::string wire = utf8ToMutf7("Mail " + emoji);
  EXPECT_EQ(wire, "Mail &2D3c5w-");
  EXPECT_EQ(mutf7ToUtf8(wire), "Mail " + emoji);
}

TEST(Mutf7, MalformedInputIsReturnedUnchanged) {
  EXPECT_EQ(mutf7ToUtf8("&unterminated"), "&unterminated");
  EXPECT_EQ(mutf7ToUtf8("&*bad-"), "&*bad-");
  // Invalid UTF-8 on the way out becomes U+FFFD rather than garbage bytes.
  EXPECT_EQ(utf8ToMutf7("a\xFFz"), "a&,,0-z");
}
