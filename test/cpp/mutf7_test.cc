#include <gtest/gtest.h>

#include "core/mutf7.h"

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

// Found by fuzz/mutf7_fuzz (fuzz/regressions/mutf7/): a lead byte past 0xF4
// made a "code point" above U+10FFFF whose surrogate pair overflowed 16 bits,
// and overlong or surrogate forms went out as lone surrogates. Each byte of
// such a sequence is one U+FFFD on the wire, like any other invalid byte.
TEST(Mutf7, InvalidUtf8FormsBecomeReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8ToMutf7("a\xF6\xA9\xA9\xA9z"), utf8ToMutf7("a" + fffd + fffd + fffd + fffd + "z"));
  EXPECT_EQ(utf8ToMutf7("\xC0\x80"), utf8ToMutf7(fffd + fffd));              // overlong NUL
  EXPECT_EQ(utf8ToMutf7("\xED\xA0\x80"), utf8ToMutf7(fffd + fffd + fffd));   // UTF-8-encoded surrogate
  EXPECT_EQ(utf8ToMutf7("\xF4\x90\x80\x80"), utf8ToMutf7(fffd + fffd + fffd + fffd));  // past U+10FFFF
  EXPECT_EQ(mutf7ToUtf8(utf8ToMutf7("\xF6\xA9\xA9\xA9\x02\xF6")),
            fffd + fffd + fffd + fffd + "\x02" + fffd);
}
