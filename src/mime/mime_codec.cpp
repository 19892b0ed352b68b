#include "mime/mime_codec.h"

#include <mimetic/codec/qp.h>

#include <cstdint>
#include <iterator>

#include "core/value.h"
#include "text/charset.h"

namespace imap::mime {

namespace {

// Sextet values of the base64 alphabet; -1 for every other byte.
struct Base64Table {
  signed char v[256];
  constexpr Base64Table() : v() {
    for (int i = 0; i < 256; ++i) v[i] = -1;
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(a[i])] = static_cast<signed char>(i);
  }
};
constexpr Base64Table kBase64;

// Lenient, like mail readers: bytes outside the alphabet (line breaks, junk)
// are skipped, '=' only counts where padding can be (third or fourth place of
// a quartet) and ends that quartet, so concatenated encodings decode; a
// partial quartet at the end gives what bytes it holds. Hand-written rather
// than mimetic's decoder, which took one call per character and was ~80 % of
// parseMessage's time on attachments.
std::string decodeBase64(std::string_view in) {
  std::string out;
  out.resize(in.size() / 4 * 3 + 3);
  char* o = out.data();
  uint32_t acc = 0;
  int sextets = 0;  // data characters in the current quartet
  int slots = 0;    // data + padding characters in it
  auto emit = [&](int n) {  // the quartet's first n bytes
    acc <<= 6 * (4 - sextets);
    if (n > 0) *o++ = static_cast<char>(acc >> 16);
    if (n > 1) *o++ = static_cast<char>(acc >> 8);
    if (n > 2) *o++ = static_cast<char>(acc);
    acc = 0;
    sextets = slots = 0;
  };
  for (char ch : in) {
    int v = kBase64.v[static_cast<unsigned char>(ch)];
    if (v >= 0) {
      if (slots > sextets) emit(sextets - 1);  // data after padding: a new quartet
      acc = (acc << 6) | static_cast<uint32_t>(v);
      ++sextets;
      if (++slots == 4) emit(3);
    } else if (ch == '=' && slots >= 2) {
      if (++slots == 4) emit(sextets - 1);
    }
  }
  if (sextets >= 2) emit(sextets - 1);
  out.resize(static_cast<size_t>(o - out.data()));
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
