// RFC 2047 encoded words, charset conversion and transfer decoding: every
// function that promises UTF-8 must deliver it, whatever the bytes.
//
// Input: byte 0 picks a charset (or, past the list, the text up to the first
// '\n' is the charset), the rest is the text.
#include "imap/auth.h"
#include "fuzz_support.h"
#include "mime/mime_codec.h"

namespace {
const char* const kCharsets[] = {"utf-8",     "iso-8859-1", "windows-1252", "iso-2022-jp", "gb2312", "gb18030",
                                 "big5",      "shift_jis",  "euc-kr",       "koi8-r",      "utf-16", "utf-16le",
                                 "utf-7",     "us-ascii",   "",             "x-unknown",   "UTF-32", "ISO-8859-15"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string charset;
  const size_t n = sizeof kCharsets / sizeof kCharsets[0];
  if (data[0] < n) {
    charset = kCharsets[data[0]];
  } else {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) nl = rest.size();
    charset = std::string(rest.substr(0, nl));
    rest.remove_prefix(nl == rest.size() ? nl : nl + 1);
  }

  FUZZ_CHECK(fuzzsupport::isUtf8(imap::decodeWords(rest)));
  std::string out;
  if (imap::toUtf8(charset, rest, out)) FUZZ_CHECK(fuzzsupport::isUtf8(out));
  FUZZ_CHECK(fuzzsupport::isUtf8(imap::mime::textToUtf8(charset, rest)));

  FUZZ_CHECK(imap::mime::decodeTransfer("base64", imap::base64Encode(rest)) == rest);
  (void)imap::mime::decodeTransfer(charset, rest);
  (void)imap::mime::decodeTransfer("quoted-printable", rest);
  (void)imap::mime::decodeTransfer("base64", rest);
  return 0;
}
