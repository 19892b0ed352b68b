#include "mime/mime.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "mime/mime_address.h"
#include "mime/mime_codec.h"
#include "mime/mime_syntax.h"
#include "mini_json.h"

using namespace imap;
using Json = minijson::Value;

namespace {

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ParsedMessage parse(std::string_view eml, const MimeLimits& limits = MimeLimits()) {
  return parseMime(eml.data(), eml.size(), limits);
}

std::vector<std::string> corpusNames() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(CORPUS_DIR))
    if (e.path().extension() == ".eml") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string sha256Hex(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += {kHex[md[i] >> 4], kHex[md[i] & 15]};
  return hex;
}

// "2024-01-02T08:58:01.000Z" -> ms since epoch.
double isoToMs(const std::string& iso) {
  std::tm tm{};
  int ms = 0;
  sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
         &tm.tm_sec, &ms);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) * 1000.0 + ms;
}

// JSON null stands for "absent", which the C++ struct spells as "".
void expectText(const Json& want, const std::string& got, const std::string& what) {
  EXPECT_EQ(want.isNull() ? std::string() : want.string, got) << what;
}

void expectAddresses(const Json& want, const std::vector<Address>& got, const std::string& what) {
  ASSERT_EQ(want.array.size(), got.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(want.array[i].find("name")->string, got[i].name) << what << "[" << i << "]";
    EXPECT_EQ(want.array[i].find("address")->string, got[i].address) << what << "[" << i << "]";
  }
}

void expectAttachment(const Json& want, const MimeAttachment& got, size_t i) {
  const std::string where = "attachments[" + std::to_string(i) + "].";
  for (const auto& [key, v] : want.object) {
    if (key == "filename") expectText(v, got.filename, where + key);
    else if (key == "contentType") EXPECT_EQ(v.string, got.contentType) << where + key;
    else if (key == "disposition") EXPECT_EQ(v.string, got.disposition) << where + key;
    else if (key == "contentId") expectText(v, got.contentId, where + key);
    else if (key == "size") EXPECT_EQ(v.number, static_cast<double>(got.size())) << where + key;
    else if (key == "contentText") EXPECT_EQ(v.string, got.content) << where + key;
    else if (key == "sha256") EXPECT_EQ(v.string, sha256Hex(got.content)) << where + key;
    else ADD_FAILURE() << "unknown expected field " << where + key;
  }
}

// Checks the fields the expected file lists; the rest are not its business.
void expectMatches(const Json& want, const ParsedMessage& m) {
  const std::pair<const char*, const std::vector<Address>*> lists[] = {
      {"from", &m.from}, {"sender", &m.sender}, {"to", &m.to}, {"cc", &m.cc}, {"bcc", &m.bcc}, {"replyTo", &m.replyTo}};
  for (const auto& [key, v] : want.object) {
    auto list = std::find_if(std::begin(lists), std::end(lists), [&](const auto& l) { return key == l.first; });
    if (list != std::end(lists)) {
      expectAddresses(v, *list->second, key);
    } else if (key == "headers") {
      ASSERT_EQ(v.array.size(), m.headers.size());
      for (size_t i = 0; i < m.headers.size(); ++i) {
        EXPECT_EQ(v.array[i].array[0].string, m.headers[i].first);
        EXPECT_EQ(v.array[i].array[1].string, m.headers[i].second);
      }
    } else if (key == "subject" || key == "messageId" || key == "inReplyTo") {
      expectText(v, key == "subject" ? m.subject : key == "messageId" ? m.messageId : m.inReplyTo, key);
    } else if (key == "text" || key == "html") {
      bool has = key == "text" ? m.hasText : m.hasHtml;
      EXPECT_EQ(!v.isNull(), has) << key;
      expectText(v, key == "text" ? m.text : m.html, key);
    } else if (key == "date") {
      if (v.isNull()) EXPECT_TRUE(std::isnan(m.date));
      else EXPECT_EQ(isoToMs(v.string), m.date);
    } else if (key == "references") {
      std::vector<std::string> want;
      for (const auto& r : v.array) want.push_back(r.string);
      EXPECT_EQ(want, m.references);
    } else if (key == "attachments") {
      ASSERT_EQ(v.array.size(), m.attachments.size());
      for (size_t i = 0; i < m.attachments.size(); ++i) expectAttachment(v.array[i], m.attachments[i], i);
    } else if (key == "size") {
      EXPECT_EQ(v.number, static_cast<double>(m.size));
    } else if (key == "truncated") {
      EXPECT_EQ(v.boolean, m.truncated);
    } else {
      ADD_FAILURE() << "unknown expected field " << key;
    }
  }
}

std::string nestedMultiparts(size_t depth) {
  std::string eml = "Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n";
  for (size_t i = 0; i < depth; ++i)
    eml += "--b" + std::to_string(i) + "\r\nContent-Type: multipart/mixed; boundary=b" + std::to_string(i + 1) + "\r\n\r\n";
  eml += "--b" + std::to_string(depth) + "\r\nContent-Type: text/plain\r\n\r\ninnermost\r\n";
  return eml;
}

}  // namespace

// ---- corpus (shared with test/parse-message.test.js) ------------------------

class MimeCorpus : public testing::TestWithParam<std::string> {};

TEST_P(MimeCorpus, MatchesExpectedJson) {
  const std::filesystem::path base = std::filesystem::path(CORPUS_DIR) / GetParam();
  const std::string eml = readFile(base.string() + ".eml");
  const Json want = minijson::parse(readFile(base.string() + ".json"));
  expectMatches(want, parse(eml));
}

INSTANTIATE_TEST_SUITE_P(Corpus, MimeCorpus, testing::ValuesIn(corpusNames()), [](const auto& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

TEST(Mime, CorpusIsPresent) { EXPECT_GE(corpusNames().size(), 20u); }

// ---- limits -----------------------------------------------------------------

TEST(Mime, DepthLimitKeepsShallowContent) {
  MimeLimits limits;
  ParsedMessage ok = parse(nestedMultiparts(limits.maxDepth - 1), limits);  // maxDepth containers in all
  EXPECT_FALSE(ok.truncated);
  EXPECT_EQ(ok.text, "innermost\n");

  ParsedMessage deep = parse(nestedMultiparts(limits.maxDepth), limits);
  EXPECT_TRUE(deep.truncated);
  EXPECT_FALSE(deep.hasText);
}

TEST(Mime, ExtremeNestingDoesNotExhaustTheStack) {
  // mimetic's own tree parser recurses once per level with no limit.
  ParsedMessage m = parse(nestedMultiparts(100000));
  EXPECT_TRUE(m.truncated);
  EXPECT_EQ(m.subject, "deep");
}

TEST(Mime, HeaderBlockLimitDropsLaterFieldsButFindsTheBody) {
  std::string eml = "Subject: first\r\nX-Pad: " + std::string(300 << 10, 'a') + "\r\nFrom: late@example.com\r\n\r\nbody";
  ParsedMessage m = parse(eml);
  EXPECT_TRUE(m.truncated);
  EXPECT_EQ(m.subject, "first");
  EXPECT_TRUE(m.from.empty());
  EXPECT_EQ(m.text, "body");
}

TEST(Mime, MaxBytesCutsTheInput) {
  std::string eml = "Subject: s\r\n\r\n" + std::string(1000, 'x');
  MimeLimits limits;
  limits.maxBytes = 100;
  ParsedMessage m = parse(eml, limits);
  EXPECT_TRUE(m.truncated);
  EXPECT_EQ(m.size, eml.size());
  EXPECT_EQ(m.text.size(), 100u - 14u);
}

TEST(Mime, PartLimitStopsAfterMaxParts) {
  std::string eml = "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (int i = 0; i < 50; ++i) eml += "--p\r\nContent-Type: image/png\r\n\r\nx\r\n";
  MimeLimits limits;
  limits.maxParts = 10;
  ParsedMessage m = parse(eml, limits);
  EXPECT_TRUE(m.truncated);
  EXPECT_EQ(m.attachments.size(), 9u);  // the message itself is the first entity
}

TEST(Mime, LongHeaderFieldsParseInLinearTime) {
  // A quadratic reader would take seconds here.
  std::string eml = "Subject: " + std::string(200 << 10, 'a') + "\r\n";
  for (int i = 0; i < 20000; ++i) eml += " b\r\n";
  eml += "\r\nbody";
  const auto start = std::chrono::steady_clock::now();
  ParsedMessage m = parse(eml);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(m.text, "body");
}

// ---- robustness ---------------------------------------------------------------

TEST(Mime, TruncatedAndMutatedCorpusNeverCrashes) {
  std::mt19937 rng(42);
  for (const auto& name : corpusNames()) {
    const std::string eml = readFile(std::filesystem::path(CORPUS_DIR) / (name + ".eml"));
    for (size_t cut = 0; cut <= eml.size(); cut += 7) parse(std::string_view(eml).substr(0, cut));
    for (int round = 0; round < 200; ++round) {
      std::string m = eml;
      for (int k = 0; k < 8; ++k) m[rng() % m.size()] = static_cast<char>(rng() % 256);
      parse(m);
    }
  }
}

TEST(Mime, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  const std::string alphabet = "-\r\n:;=?\"<>()@,Bb Qq=_%*'\\abcx0123";
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 400, '\0');
    for (auto& c : s) c = rng() % 3 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() % 256);
    parse("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + s);
    parse(s);
  }
}

TEST(Mime, WrongBoundaryFallsBackToTheWholeBodyAsText) {
  const std::string body = "Reply above.\r\n-----Original Message-----\r\n-- \r\nsig\r\n";
  ParsedMessage m = parse("Content-Type: multipart/mixed; boundary=nope\r\n\r\n" + body);
  EXPECT_EQ(m.text, "Reply above.\n-----Original Message-----\n-- \nsig\n");
  ParsedMessage closedOnly = parse("Content-Type: multipart/mixed; boundary=b\r\n\r\nonly text\r\n--b--\r\n");
  EXPECT_EQ(closedOnly.text, "only text\n--b--\n");
}

// ---- transfer encodings and charsets ----------------------------------------

TEST(Mime, Base64SkipsJunkAndToleratesMissingPadding) {
  EXPECT_EQ(mime::decodeTransfer("base64", "aGVs|bG8g\r\nd29y*bGQ"), "hello world");
  EXPECT_EQ(mime::decodeTransfer(" BASE64 ", "QQ==QUI="), "AAB");  // concatenated encodings
  EXPECT_EQ(mime::decodeTransfer("base64", "=QUJD"), "ABC");      // '=' where no padding can be
  EXPECT_EQ(mime::decodeTransfer("base64", "QUJDR"), "ABC");      // a lone trailing character
}

TEST(Mime, Base64PaddingEndsAQuartet) {
  EXPECT_EQ(mime::decodeTransfer("base64", "QQ"), "A");
  EXPECT_EQ(mime::decodeTransfer("base64", "QQ="), "A");
  EXPECT_EQ(mime::decodeTransfer("base64", "QUI"), "AB");
  EXPECT_EQ(mime::decodeTransfer("base64", "QQ=QUJD"), "AABC");  // data after padding starts anew
  EXPECT_EQ(mime::decodeTransfer("base64", "QUJD===="), "ABC");  // padding where none can be
  EXPECT_EQ(mime::decodeTransfer("base64", ""), "");
  EXPECT_EQ(mime::decodeTransfer("base64", "\r\n"), "");
}

// Pseudo-random bytes of every length up to 300, line breaks at every quartet
// alignment: what a standard encoder writes decodes to the original bytes.
TEST(Mime, Base64RoundTripsWithLineBreaks) {
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint32_t x = 12345;
  for (size_t len = 0; len <= 300; ++len) {
    std::string raw(len, '\0');
    for (auto& c : raw) {
      x = x * 1103515245u + 12345u;
      c = static_cast<char>(x >> 16);
    }
    std::string enc;
    for (size_t i = 0; i < len; i += 3) {
      uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(raw[i])) << 16;
      if (i + 1 < len) n |= static_cast<uint32_t>(static_cast<unsigned char>(raw[i + 1])) << 8;
      if (i + 2 < len) n |= static_cast<unsigned char>(raw[i + 2]);
      enc += alphabet[(n >> 18) & 63];
      enc += alphabet[(n >> 12) & 63];
      enc += i + 1 < len ? alphabet[(n >> 6) & 63] : '=';
      enc += i + 2 < len ? alphabet[n & 63] : '=';
    }
    size_t lineLen = 1 + len % 77;
    std::string wrapped;
    for (size_t i = 0; i < enc.size(); i += lineLen) wrapped += enc.substr(i, lineLen) + "\r\n";
    ASSERT_EQ(mime::decodeTransfer("base64", wrapped), raw) << "length " << len;
  }
}

TEST(Mime, QuotedPrintableKeepsMalformedEscapes) {
  EXPECT_EQ(mime::decodeTransfer("quoted-printable", "a=3Db=\r\nc =ZZ d=\r\n"), "a=bc =ZZ d");
  EXPECT_EQ(mime::decodeTransfer("7bit", "a=3D"), "a=3D");
}

TEST(Mime, UnknownOrMislabelledCharsetsAreGuessed) {
  EXPECT_EQ(mime::textToUtf8("x-nonsense", "caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(mime::textToUtf8("x-nonsense", "caf\xE9"), "caf\xC3\xA9");
  EXPECT_EQ(mime::textToUtf8("", "\x93q\x94"), "\xE2\x80\x9Cq\xE2\x80\x9D");
  EXPECT_EQ(mime::textToUtf8("us-ascii", "caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(mime::textToUtf8("UTF-8//TRANSLIT", "x"), "x");
}

// ---- parameters, ids, addresses -------------------------------------------------

TEST(Mime, ParametersHonourQuotingAndComments) {
  auto ct = mime::parseParamValue("Multipart/Mixed (comment); boundary=\"a;b=c\"; charset = utf-8 (latin)");
  EXPECT_EQ(ct.value, "multipart/mixed");
  EXPECT_EQ(ct.raw("boundary"), "a;b=c");
  EXPECT_EQ(ct.raw("charset"), "utf-8");
  auto cd = mime::parseParamValue("attachment; filename=report (1).pdf; size=10; junk");
  EXPECT_EQ(cd.text("filename"), "report (1).pdf");
  EXPECT_EQ(cd.raw("size"), "10");
  EXPECT_EQ(mime::parseParamValue("inline; filename=\"a \\\"b\\\".txt").text("filename"), "a \"b\".txt");
}

TEST(Mime, Rfc2231SectionsAreOrderedAndWinOverThePlainForm) {
  auto p = mime::parseParamValue(
      "attachment; filename=\"fallback.txt\"; filename*1=\"b.txt\"; filename*0*=UTF-8'en'%C3%A4%20");
  EXPECT_EQ(p.text("filename"), "\xC3\xA4 b.txt");
  EXPECT_EQ(mime::parseParamValue("a; name*=''%41%zz%4").text("name"), "A%zz%4");
}

TEST(Mime, MessageIds) {
  EXPECT_EQ(mime::parseMessageIds(" <a@b> (comment <x@y>)\r\n <c@d"), (std::vector<std::string>{"<a@b>", "<c@d>"}));
  EXPECT_EQ(mime::parseMessageIds("bare@id other@id"), (std::vector<std::string>{"bare@id", "other@id"}));
  EXPECT_TRUE(mime::parseMessageIds("").empty());
}

TEST(Mime, RawEightBitIdsAndAddressesComeOutAsUtf8) {
  ParsedMessage m = parse("From: Andr\xE9 <andr\xE9@example.fr>\r\nMessage-ID: <caf\xE9@x>\r\n"
                          "Content-Type: image/p\xE9g\r\nContent-ID: <\xE9>\r\n\r\nx");
  ASSERT_EQ(m.from.size(), 1u);
  EXPECT_EQ(m.from[0].address, "andr\xC3\xA9@example.fr");
  EXPECT_EQ(m.messageId, "<caf\xC3\xA9@x>");
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].contentType, "image/p\xC3\xA9g");
  EXPECT_EQ(m.attachments[0].contentId, "<\xC3\xA9>");
}

TEST(Mime, AddressEdgeCases) {
  EXPECT_TRUE(mime::parseAddressList("").empty());
  EXPECT_TRUE(mime::parseAddressList("<>").empty());
  EXPECT_TRUE(mime::parseAddressList("Empty group:;").empty());
  auto a = mime::parseAddressList("a@b ((nested) comment), \"unterminated <x@y>");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].name, "(nested) comment");
  EXPECT_EQ(a[0].address, "a@b");
  EXPECT_EQ(a[1].name, "unterminated <x@y>");
  auto b = mime::parseAddressList("root, John Smith, <c@d");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].address, "root");
  EXPECT_EQ(b[1].name, "John Smith");
  EXPECT_EQ(b[1].address, "");
  EXPECT_EQ(b[2].address, "c@d");
}
