#include "mime_codec.h"

#include <mimetic/codec/base64.h>
#include <mimetic/codec/qp.h>

#include <iterator>

#include "envelope.h"
#include "value.h"

namespace imap::mime {

namespace {

bool isBase64Alphabet(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// Only alphabet characters reach mimetic's decoder: its table lookup reads one
// byte past the table for '|', and a '=' early in a quartet would make it emit
// garbage. Feeding characters one by one (not the range overload, which
// flushes a partial quartet per call) keeps quartets intact across line ends.
std::string decodeBase64(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3 + 3);
  mimetic::Base64::Decoder decoder;
  auto sink = std::back_inserter(out);
  size_t fed = 0;
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (isBase64Alphabet(c) || (c == '=' && fed % 4 >= 2)) {
      decoder.process(c, sink);
      ++fed;
    }
  }
  decoder.flush(sink);
  return out;
}

std::string decodeQuotedPrintable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  mimetic::QP::Decoder decoder;
  auto sink = std::back_inserter(out);
  for (char ch : in) decoder.process(static_cast<unsigned char>(ch), sink);
  decoder.flush(sink);
  return out;
}

// "base64 (comment)", " Base64;" and the like: the leading token only.
std::string_view encodingToken(std::string_view v) {
  size_t b = v.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  v.remove_prefix(b);
  return v.substr(0, v.find_first_of(" \t;("));
}

std::string bestEffortUtf8(std::string_view bytes) {
  std::string out;
  toUtf8("UTF-8", bytes, out);  // replaces invalid sequences, so a change means invalid
  if (out.size() == bytes.size()) return out;
  toUtf8("WINDOWS-1252", bytes, out);
  return out;
}

}  // namespace

std::string decodeTransfer(std::string_view encoding, std::string_view body) {
  std::string_view enc = encodingToken(encoding);
  if (iequals(enc, "base64")) return decodeBase64(body);
  if (iequals(enc, "quoted-printable")) return decodeQuotedPrintable(body);
  return std::string(body);
}

std::string textToUtf8(std::string_view charset, std::string_view bytes) {
  std::string out;
  if (charset.empty() || iequals(charset, "us-ascii") || iequals(charset, "ascii") || !toUtf8(charset, bytes, out))
    return bestEffortUtf8(bytes);
  return out;
}

}  // namespace imap::mime
