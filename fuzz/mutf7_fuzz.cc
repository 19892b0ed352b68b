// Modified UTF-7 both ways: any valid UTF-8 name survives the trip to the
// wire and back, the wire form is printable ASCII, and decoding arbitrary
// server bytes never crashes.
#include "fuzz_support.h"
#include "core/mutf7.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string wire = imap::utf8ToMutf7(in);
  for (unsigned char c : wire) FUZZ_CHECK(c >= 0x20 && c <= 0x7E);
  if (fuzzsupport::isUtf8(in)) {
    FUZZ_CHECK(imap::mutf7ToUtf8(wire) == in);
  } else {
    // Invalid bytes are sent as U+FFFD: what comes back must at least be
    // UTF-8 that encodes to the same wire form.
    const std::string back = imap::mutf7ToUtf8(wire);
    FUZZ_CHECK(fuzzsupport::isUtf8(back));
    FUZZ_CHECK(imap::utf8ToMutf7(back) == wire);
  }
  (void)imap::mutf7ToUtf8(in);
  return 0;
}
