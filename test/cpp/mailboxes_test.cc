#include <gtest/gtest.h>

#include <vector>

#include "imap/mailboxes.h"
#include "core/parser.h"

using namespace imap;

namespace {

FolderInfo list(const std::string& line) {
  Parser p;
  std::vector<Response> out;
  std::string raw = line + "\r\n";
  EXPECT_TRUE(p.feed(raw.data(), raw.size(), out)) << p.error();
  FolderInfo info;
  EXPECT_TRUE(parseListResponse(out.at(0).args, info));
  return info;
}

}  // namespace

TEST(Mailboxes, SpecialUseAttribute) {
  FolderInfo f = list(R"(* LIST (\HasNoChildren \Sent \Subscribed) "/" "Gesendet")");
  EXPECT_EQ(f.path, "Gesendet");
  EXPECT_EQ(f.specialUse, "\\Sent");
  EXPECT_TRUE(f.subscribed);
}

TEST(Mailboxes, HierarchyAndModifiedUtf7) {
  FolderInfo f = list(R"(* LIST (\HasNoChildren) "." "Projekte.Entw&APw-rfe")");
  EXPECT_EQ(f.path, "Projekte.Entw\xC3\xBC" "rfe");
  EXPECT_EQ(f.name, "Entw\xC3\xBC" "rfe");
  EXPECT_EQ(f.delimiter, ".");
  EXPECT_EQ(f.specialUse, "");
}

TEST(Mailboxes, CommonNamesWithoutSpecialUse) {
  EXPECT_EQ(list(R"(* LIST () "/" "Sent Items")").specialUse, "\\Sent");
  EXPECT_EQ(list(R"(* LIST () "/" "Deleted Items")").specialUse, "\\Trash");
  EXPECT_EQ(list(R"(* LIST () "/" "[Gmail]/Spam")").specialUse, "\\Junk");
  EXPECT_EQ(list(R"(* LIST () NIL "Archive")").delimiter, "");
}

TEST(Mailboxes, InboxIsNormalised) {
  EXPECT_EQ(list(R"(* LIST () "/" inbox)").path, "INBOX");
}

TEST(Mailboxes, MalformedListIsRefused) {
  FolderInfo info;
  EXPECT_FALSE(parseListResponse({Value::atom("x")}, info));
  EXPECT_FALSE(parseListResponse({Value::atom("x"), Value::nil(), Value::nil()}, info));
}
