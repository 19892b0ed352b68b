#include <gtest/gtest.h>

#include <vector>

#include "core/parser.h"
#include "imap/status.h"

using namespace imap;

namespace {

Response parse(const std::string& line) {
  Parser p;
  std::vector<Response> out;
  std::string raw = line + "\r\n";
  EXPECT_TRUE(p.feed(raw.data(), raw.size(), out)) << p.error();
  return out.at(0);
}

}  // namespace

// The sync's STATUS and folderChanged's read one parser: every item, in any
// order, with a HIGHESTMODSEQ past 32 bits kept whole.
TEST(Status, ReadsEveryItemInAnyOrder) {
  StatusItems s;
  ASSERT_TRUE(readStatus(parse(R"(* STATUS "Sent Items" (UNSEEN 3 HIGHESTMODSEQ 8589934592 MESSAGES 12 UIDNEXT 40 UIDVALIDITY 7))"), s));
  EXPECT_EQ(s.messages, 12u);
  EXPECT_EQ(s.unseen, 3u);
  EXPECT_EQ(s.uidNext, 40u);
  EXPECT_EQ(s.uidValidity, 7u);
  EXPECT_EQ(s.highestModseq, 8589934592ull);
}

TEST(Status, OtherResponsesAreNotStatus) {
  StatusItems s;
  s.unseen = 9;
  EXPECT_FALSE(readStatus(parse("* 5 EXISTS"), s));
  EXPECT_FALSE(readStatus(parse("* STATUS INBOX"), s));
  EXPECT_EQ(s.unseen, 9u);
  // Items it does not name stay as they were; an odd trailing item is ignored.
  ASSERT_TRUE(readStatus(parse("* STATUS INBOX (MESSAGES 2 UNSEEN)"), s));
  EXPECT_EQ(s.messages, 2u);
  EXPECT_EQ(s.unseen, 9u);
}
