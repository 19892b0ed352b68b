#include <gtest/gtest.h>

#include <vector>

#include "core/parser.h"
#include "mime/preview.h"

using namespace imap;

namespace {

// BODYSTRUCTURE as a server sends it, parsed by the real parser.
Value structure(const std::string& bs) {
  Parser p;
  std::vector<Response> out;
  std::string line = "* 1 FETCH (BODYSTRUCTURE " + bs + ")\r\n";
  EXPECT_TRUE(p.feed(line.data(), line.size(), out)) << p.error();
  EXPECT_EQ(out.size(), 1u);
  return out[0].args[0].list[1];
}

}  // namespace

TEST(Preview, SinglePartIsSectionOne) {
  PreviewPart part;
  ASSERT_TRUE(choosePreviewPart(structure(R"(("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 120 4 NIL NIL NIL NIL))"), part));
  EXPECT_EQ(part.section, "1");
  EXPECT_EQ(part.encoding, "quoted-printable");
  EXPECT_EQ(part.charset, "iso-8859-1");
  EXPECT_FALSE(part.html);
}

TEST(Preview, PlainWinsOverHtmlInNestedAlternative) {
  PreviewPart part;
  ASSERT_TRUE(choosePreviewPart(structure(
      R"(((("text" "html" ("charset" "utf-8") NIL NIL "base64" 400 6 NIL NIL NIL NIL)("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 40 2 NIL NIL NIL NIL) "alternative" ("boundary" "a") NIL NIL NIL)("application" "pdf" ("name" "x.pdf") NIL NIL "base64" 900 NIL ("attachment" ("filename" "x.pdf")) NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL))"),
      part));
  EXPECT_EQ(part.section, "1.2");
  EXPECT_EQ(part.encoding, "7bit");
}

TEST(Preview, HtmlWhenThereIsNoPlainText) {
  PreviewPart part;
  ASSERT_TRUE(choosePreviewPart(structure(R"(("text" "html" ("charset" "utf-8") NIL NIL "base64" 400 6 NIL NIL NIL NIL))"), part));
  EXPECT_TRUE(part.html);
  EXPECT_EQ(part.encoding, "base64");
}

TEST(Preview, TextAttachmentsAreNotPreviews) {
  PreviewPart part;
  EXPECT_FALSE(choosePreviewPart(structure(
      R"((("text" "csv" ("name" "a.csv") NIL NIL "7bit" 10 1 NIL ("attachment" ("filename" "a.csv")) NIL NIL)("text" "plain" ("name" "b.txt") NIL NIL "7bit" 10 1 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL))"),
      part));
}

TEST(Preview, MalformedStructureIsRefusedNotCrashed) {
  PreviewPart part;
  EXPECT_FALSE(choosePreviewPart(Value::atom("NIL"), part));
  EXPECT_FALSE(choosePreviewPart(Value::makeList({}), part));
  EXPECT_FALSE(choosePreviewPart(structure(R"(("text"))"), part));
}

TEST(Preview, HtmlToTextDropsMarkupStyleAndDecodesEntities) {
  EXPECT_EQ(makePreview(htmlToText("<html><style>p{color:red}</style><p>Hello&nbsp;<b>world</b> &amp; co</p></html>"), 100),
            "Hello world & co");
  EXPECT_EQ(makePreview(htmlToText("<script>alert(1)</script>text"), 100), "text");
  EXPECT_EQ(makePreview(htmlToText("a <unterminated"), 100), "a");
}

TEST(Preview, CutsAtCodePointsAndCollapsesWhitespace) {
  EXPECT_EQ(makePreview("  one\r\n\ttwo   three ", 100), "one two three");
  EXPECT_EQ(makePreview("f\xC3\xBCr Z\xC3\xBCrich", 5), "f\xC3\xBCr Z");
  EXPECT_EQ(makePreview("\xF0\x9F\x98\x82\xF0\x9F\x98\x82", 1), "\xF0\x9F\x98\x82");
  EXPECT_EQ(makePreview("abc\xE2\x82", 10), "abc\xE2\x82");  // a cut sequence is not over-read
}
