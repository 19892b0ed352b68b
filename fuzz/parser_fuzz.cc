// The response parser, fed the same bytes in one piece and in random pieces:
// its header promises the result never depends on the split. Every FETCH
// and VANISHED it yields is decoded the way the engine decodes them.
//
// Input: byte 0 = control (bits 0-2: number of piece lengths that follow,
// bit 3: lengths x17, bit 4: small limits so the limit paths are reachable),
// then the piece lengths, then the bytes to parse.
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const unsigned ctl = data[0];
  const size_t npieces = ctl & 7;
  if (size < 1 + npieces) return 0;
  std::vector<size_t> pieces;
  for (size_t i = 0; i < npieces; ++i) pieces.push_back(size_t(data[1 + i]) * ((ctl & 8) ? 17 : 1));
  std::string_view input(reinterpret_cast<const char*>(data) + 1 + npieces, size - 1 - npieces);

  imap::Parser::Limits limits;
  if (ctl & 16) {
    limits.maxLine = 64;
    limits.maxLiteral = 128;
    limits.maxResponse = 512;
    limits.maxDepth = 4;
  }
  imap::Parser whole(limits), split(limits);
  std::vector<imap::Response> responses, splitResponses;
  const std::string a = fuzzsupport::feedInPieces(whole, input, {}, responses);
  const std::string b = fuzzsupport::feedInPieces(split, input, pieces, splitResponses);
  FUZZ_CHECK(a == b);

  // reset() must forget everything: the same bytes parse the same again.
  split.reset();
  std::vector<imap::Response> again;
  FUZZ_CHECK(fuzzsupport::feedInPieces(split, input, {}, again) == a);

  for (const auto& r : responses) {
    if (r.keyword == "FETCH" && !r.args.empty()) {
      fuzzsupport::FetchDecoded d = fuzzsupport::decodeFetch(r.args[0]);
      for (const auto& f : d.event.flags) FUZZ_CHECK(!imap::iequals(f, "\\Recent"));
    } else if (r.keyword == "VANISHED") {
      bool earlier = false;
      if (auto uids = imap::vanishedUids(r.args, earlier)) FUZZ_CHECK(!uids->contains(0));
    }
    if (r.isStatus()) (void)imap::describe(r);
  }
  return 0;
}
