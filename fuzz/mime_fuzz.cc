// parseMime (the parseMessage path): hostile messages must stay within the
// limits and yield UTF-8 everywhere a JS string is made from the result.
#include "fuzz_support.h"
#include "mime/mime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  imap::MimeLimits limits;
  // Small limits so that the cut-off paths are reached with small inputs.
  if (size > 0 && (data[0] & 1)) {
    limits.maxDepth = 3;
    limits.maxHeaderBytes = 256;
    limits.maxParts = 8;
    limits.maxBytes = 2048;
  }
  imap::ParsedMessage m = imap::parseMime(reinterpret_cast<const char*>(data), size, limits);
  FUZZ_CHECK(m.size == size);
  FUZZ_CHECK(m.attachments.size() <= limits.maxParts);
  FUZZ_CHECK(fuzzsupport::isUtf8(m.subject) && fuzzsupport::isUtf8(m.text) && fuzzsupport::isUtf8(m.html));
  for (const auto& [name, value] : m.headers) FUZZ_CHECK(fuzzsupport::isUtf8(value));
  for (const auto* list : {&m.from, &m.sender, &m.to, &m.cc, &m.bcc, &m.replyTo})
    for (const auto& a : *list) FUZZ_CHECK(fuzzsupport::isUtf8(a.name) && fuzzsupport::isUtf8(a.address));
  for (const auto& a : m.attachments) FUZZ_CHECK(fuzzsupport::isUtf8(a.filename));
  return 0;
}
