// Replays the shared corpus of real server responses (../shared/corpus/
// imap-responses, see its README) through the response parser: whole and
// split at seeded random points, the same result either way, no error on a
// well-formed file, and FETCH data decoded as the engine decodes it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "fuzz_support.h"

namespace fs = std::filesystem;
using imap::Response;

namespace {

// Files the parser must reject, and why. Everything else must parse,
// gmail/fetch-invalid-headers.txt included: its broken headers are inside a
// literal, which is IMAP-wise fine.
const std::map<std::string, std::string> kMalformed = {
    {"exchange/issue115.txt", "first line is a bare \"[COPYUID 55 31 6]\": neither tagged, untagged nor '+'"},
    {"gmail/headers.1+unsolicited-info.txt",
     "BODY[HEADER] {515} stops 3 bytes short of the header's last line \" \\r\\n\", which then breaks the FETCH "
     "list in two (unbalanced '(')"},
};

struct Replayed {
  std::vector<Response> responses;
  bool failed = false;
};

std::map<std::string, Replayed>& corpus() {
  static std::map<std::string, Replayed> files;
  return files;
}

std::string readCrlf(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  // Stored with LF ends; the literal counts are those of the CRLF sent.
  std::string lf = ss.str(), out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

class CorpusReplay : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path dir = SHARED_CORPUS_DIR;
    if (!fs::is_directory(dir)) return;
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".txt") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::mt19937 rng(11);  // fixed: a failure names the file and replays the same splits
    for (const auto& f : files) {
      const std::string data = readCrlf(f);
      const std::string name = fs::relative(f, dir).generic_string();
      Replayed r;
      imap::Parser whole;
      const std::string expected = fuzzsupport::feedInPieces(whole, data, {}, r.responses);
      r.failed = whole.failed();
      for (int round = 0; round < 8; ++round) {
        std::vector<size_t> pieces;
        std::uniform_int_distribution<size_t> len(1, round < 4 ? 8 : 200);
        for (int k = 0; k < 16; ++k) pieces.push_back(len(rng));
        imap::Parser split;
        std::vector<Response> out;
        EXPECT_EQ(fuzzsupport::feedInPieces(split, data, pieces, out), expected) << name << " round " << round;
      }
      corpus()[name] = std::move(r);
    }
  }

  void SetUp() override {
    if (fs::is_directory(SHARED_CORPUS_DIR)) return;
    if (std::getenv("CI")) FAIL() << "shared corpus missing: " << SHARED_CORPUS_DIR;
    GTEST_SKIP() << "warning: shared corpus missing (" << SHARED_CORPUS_DIR << "), replay skipped";
  }

  static void expectOne(const std::vector<imap::Address>& list, const std::string& name, const std::string& address) {
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].name, name);
    EXPECT_EQ(list[0].address, address);
  }

  static void expectPart(const fuzzsupport::FetchDecoded& d, const char* charset, const char* encoding) {
    ASSERT_TRUE(d.hasPreviewPart);
    EXPECT_EQ(d.preview.section, "1");
    EXPECT_EQ(d.preview.charset, charset);
    EXPECT_EQ(d.preview.encoding, encoding);
    EXPECT_FALSE(d.preview.html);
  }

  static const Response& fetch(const std::string& file, uint64_t seq) {
    for (const auto& r : corpus().at(file).responses)
      if (r.keyword == "FETCH" && r.number == seq && !r.args.empty()) return r;
    throw std::runtime_error("no FETCH " + std::to_string(seq) + " in " + file);
  }
};

TEST_F(CorpusReplay, EveryWellFormedFileParsesAndOnlyTheBrokenOnesFail) {
  EXPECT_EQ(corpus().size(), 350u);  // the README's 400 files less the 50 .msg messages
  std::set<std::string> failed;
  for (const auto& [name, r] : corpus())
    if (r.failed) failed.insert(name);
  std::set<std::string> expected;
  for (const auto& [name, why] : kMalformed) expected.insert(name);
  EXPECT_EQ(failed, expected);
  for (const auto& [name, why] : kMalformed) EXPECT_TRUE(failed.count(name)) << name << ": " << why;
  for (const auto& [name, r] : corpus()) EXPECT_TRUE(r.failed || !r.responses.empty()) << name;
}

TEST_F(CorpusReplay, FetchResponsesDecode) {
  size_t fetches = 0, envelopes = 0, structures = 0;
  for (const auto& [name, r] : corpus())
    for (const auto& resp : r.responses) {
      if (resp.keyword != "FETCH" || resp.args.empty()) continue;
      ++fetches;
      fuzzsupport::FetchDecoded d = fuzzsupport::decodeFetch(resp.args[0]);
      envelopes += d.event.hasEnvelope;
      structures += d.hasBodystructure;
    }
  std::printf("corpus: %zu FETCH responses, %zu envelopes, %zu BODYSTRUCTUREs\n", fetches, envelopes, structures);
  // Counted on the corpus at its README's commit: a regression in decoding
  // lowers them.
  EXPECT_GE(fetches, 300u);
  EXPECT_GE(envelopes, 40u);
  EXPECT_GE(structures, 20u);
}

// Spot checks, read off the files by hand.
TEST_F(CorpusReplay, DovecotFetchWithEverything) {
  auto d = fuzzsupport::decodeFetch(fetch("dovecot/fetch3.txt", 1).args[0]);
  const auto& e = d.event;
  EXPECT_EQ(e.uid, 1u);
  EXPECT_EQ(e.flags, (std::vector<std::string>{"\\Answered", "\\Seen", "\\Draft"}));  // \Recent dropped
  EXPECT_EQ(e.size, 253u);
  EXPECT_EQ(e.internalDate, 1475443705000.0);  // 02-Oct-2016 17:28:25 -0400
  ASSERT_TRUE(e.hasEnvelope);
  EXPECT_EQ(e.envelope.subject, "A");
  expectOne(e.envelope.from, "Unit Tests", "unit-tests@mimekit.net");
  EXPECT_EQ(e.envelope.messageId, "<a@mimekit.net>");
  expectPart(d, "utf-8", "7bit");
}

TEST_F(CorpusReplay, GmailFetchWithThreeCcAddresses) {
  auto d = fuzzsupport::decodeFetch(fetch("gmail/fetch-previewtext-bodystructure.txt", 1).args[0]);
  const auto& e = d.event;
  EXPECT_EQ(e.uid, 1u);
  EXPECT_EQ(e.flags, std::vector<std::string>{"\\Seen"});
  EXPECT_EQ(e.size, 507u);
  EXPECT_EQ(e.envelope.subject, "text/plain message");
  expectOne(e.envelope.replyTo, "Example Reply-To", "reply-to@example.com");
  ASSERT_EQ(e.envelope.cc.size(), 3u);
  EXPECT_EQ(e.envelope.cc[2].name, "Example Recipient #3");
  EXPECT_EQ(e.envelope.cc[2].address, "recipient3@example.com");
  EXPECT_EQ(e.envelope.messageId, "<2T1YDYWYKXT4.7B2PY7UJXN1U3@Jeffrey-Stedfasts-2013-iMac.local>");
  expectPart(d, "utf-8", "7bit");
}

TEST_F(CorpusReplay, GmailBodystructureWithKoreanCharset) {
  auto d = fuzzsupport::decodeFetch(fetch("gmail/fetch-korean-previewtext-bodystructure.txt", 1).args[0]);
  EXPECT_FALSE(d.event.hasEnvelope);
  expectPart(d, "ks_c_5601-1987", "base64");
}

TEST_F(CorpusReplay, DovecotNotifyDuringIdle) {
  auto d = fuzzsupport::decodeFetch(fetch("dovecot/notify-idle.txt", 1).args[0]);
  const auto& e = d.event;
  EXPECT_TRUE(e.flags.empty());  // only \Recent, which is per session
  EXPECT_EQ(e.envelope.subject, "IMAP4rev1 WG mtg summary and minutes");
  EXPECT_EQ(e.envelope.date, 837595405000.0);  // Wed, 17 Jul 1996 02:23:25 -0700 (PDT)
  expectOne(e.envelope.from, "Terry Gray", "gray@cac.washington.edu");
  ASSERT_FALSE(e.envelope.to.empty());
  EXPECT_EQ(e.envelope.to[0].address, "imap@cac.washington.edu");
}

TEST_F(CorpusReplay, GmailFetchAmidExpunges) {
  const auto& r = corpus().at("gmail/expunge-during-fetch.txt");
  std::vector<uint64_t> expunged;
  for (const auto& resp : r.responses)
    if (resp.keyword == "EXPUNGE") expunged.push_back(*resp.number);
  EXPECT_EQ(expunged, (std::vector<uint64_t>{2, 5}));
  auto e = fuzzsupport::decodeFetch(fetch("gmail/expunge-during-fetch.txt", 5).args[0]).event;
  EXPECT_EQ(e.uid, 5u);
  EXPECT_EQ(e.envelope.subject, "subject 5");
  EXPECT_EQ(e.envelope.date, 1563516017000.0);
  expectOne(e.envelope.from, "From", "from@example.com");
  EXPECT_EQ(e.envelope.inReplyTo, "in-reply-to@localhost.localdomain");
}

}  // namespace
