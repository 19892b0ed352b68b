// ENVELOPE and BODYSTRUCTURE decoding straight from IMAP values (no response
// framing to get past), plus the two date parsers on the raw bytes.
#include "fuzz_support.h"

#include <cmath>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  for (double t : {imap::parseRfc5322Date(s), imap::parseInternalDate(s)}) FUZZ_CHECK(std::isnan(t) || std::isfinite(t));

  std::vector<imap::Value> values;
  std::string err;
  size_t pos = 0;
  imap::parseValues(s, pos, s.size(), values, 16, err);
  for (const auto& v : values) {
    imap::Envelope env;
    if (imap::decodeEnvelope(v, env)) FUZZ_CHECK(v.isList() && v.list.size() >= 10);
    imap::PreviewPart part;
    if (imap::choosePreviewPart(v, part)) FUZZ_CHECK(!part.section.empty());
    // downloadPart's walk reads list[0..6] of what it returns.
    for (const char* section : {"1", "2", "1.1", "2.2", "1.2.3", "3.1.1.1"}) {
      const imap::Value* found = imap::bodyPart(v, section);
      FUZZ_CHECK(!found || (found->isList() && found->list.size() >= 7 && found->list[0].isText()));
    }
    // The same value as the item list of a FETCH, and as the BODYSTRUCTURE in one.
    fuzzsupport::decodeFetch(v);
    fuzzsupport::decodeFetch(imap::Value::makeList({imap::Value::atom("BODYSTRUCTURE"), v, imap::Value::atom("ENVELOPE"), v}));
  }
  return 0;
}
