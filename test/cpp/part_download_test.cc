#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/parser.h"
#include "mime/preview.h"

namespace {

imap::Value structure(const std::string& s) {
  std::vector<imap::Value> out;
  size_t pos = 0;
  std::string err;
  EXPECT_TRUE(imap::parseValues(s, pos, s.size(), out, 64, err)) << err;
  return out.empty() ? imap::Value{} : out[0];
}

std::string typeOf(const imap::Value* part) { return part ? part->list[0].str + "/" + part->list[1].str : "none"; }

}  // namespace

// Part numbers address BODYSTRUCTURE as RFC 3501 6.4.5 numbers them; a
// server's structure may be anything, so a path past it finds nothing.
TEST(PartDownload, BodyPartWalksTheStructure) {
  imap::Value single = structure(R"(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 12 1))");
  EXPECT_EQ(typeOf(imap::bodyPart(single, "1")), "TEXT/PLAIN");
  EXPECT_EQ(imap::bodyPart(single, "2"), nullptr);
  EXPECT_EQ(imap::bodyPart(single, "1.1"), nullptr);

  imap::Value mixed = structure(
      R"((("TEXT" "PLAIN" NIL NIL NIL "QUOTED-PRINTABLE" 40 2)(("TEXT" "HTML" NIL NIL NIL "7BIT" 9 1)("IMAGE" "PNG" NIL NIL NIL "BASE64" 88) "RELATED") "MIXED"))");
  EXPECT_EQ(typeOf(imap::bodyPart(mixed, "1")), "TEXT/PLAIN");
  EXPECT_EQ(imap::bodyPart(mixed, "2"), nullptr);  // a multipart is no single part
  EXPECT_EQ(typeOf(imap::bodyPart(mixed, "2.1")), "TEXT/HTML");
  EXPECT_EQ(typeOf(imap::bodyPart(mixed, "2.2")), "IMAGE/PNG");
  for (const char* missing : {"3", "2.3", "2.2.1", "1.1", "9999", "0", "", "a", "1..2", ".1", "1.", "12345", "-1"})
    EXPECT_EQ(imap::bodyPart(mixed, missing), nullptr) << missing;

  EXPECT_EQ(imap::bodyPart(structure("(NIL)"), "1"), nullptr);
  EXPECT_EQ(imap::bodyPart(structure(R"(("TEXT" "PLAIN"))"), "1"), nullptr);  // too short to be a body
  EXPECT_EQ(imap::bodyPart(imap::Value{}, "1"), nullptr);
}
