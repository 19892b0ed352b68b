// Helpers shared by the fuzz targets and the corpus replay test: a failed
// property must abort (libFuzzer only reports crashes), and two parses are
// compared through one canonical text form of what they produced.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "imap/envelope.h"
#include "text/charset.h"
#include "text/date.h"
#include "text/rfc2047.h"
#include "model/events.h"
#include "imap/fetch.h"
#include "core/parser.h"
#include "mime/preview.h"

namespace fuzzsupport {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "property violated: %s (%s:%d)\n", what, file, line);
  std::abort();
}

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) ::fuzzsupport::fail(#cond, __FILE__, __LINE__); \
  } while (0)

inline void appendValue(std::string& o, const imap::Value& v) {
  using K = imap::Value::Kind;
  switch (v.kind) {
    case K::Nil: o += "N"; return;
    case K::Number: o += "#" + std::to_string(v.num); return;
    case K::Atom: o += "A"; break;
    case K::String: o += "S"; break;
    case K::List:
      o += "(";
      for (const auto& x : v.list) appendValue(o, x), o += ",";
      o += ")";
      return;
  }
  // Length-prefixed, so no byte inside can fake a boundary.
  o += std::to_string(v.str.size()) + ":" + v.str;
}

// Everything a consumer can read from a response.
inline std::string responseText(const imap::Response& r) {
  std::string o = std::to_string(static_cast<int>(r.type)) + "|" + r.tag + "|" + r.status + "|";
  if (r.code) {
    o += "[" + r.code->name + "|" + r.code->raw + "|";
    for (const auto& a : r.code->args) appendValue(o, a), o += ",";
    o += "]";
  }
  o += std::to_string(r.text.size()) + ":" + r.text + "|" + (r.number ? std::to_string(*r.number) : "-") + "|" +
       r.keyword + "|";
  for (const auto& a : r.args) appendValue(o, a), o += ",";
  return o;
}

// Feeds `data` in pieces of the given lengths (cycled; a zero counts as one)
// and returns the canonical text of every response plus whether it failed.
inline std::string feedInPieces(imap::Parser& p, std::string_view data, const std::vector<size_t>& pieces,
                                std::vector<imap::Response>& out) {
  size_t pos = 0, k = 0;
  while (pos < data.size()) {
    size_t n = pieces.empty() ? data.size() : pieces[k++ % pieces.size()];
    if (n == 0) n = 1;
    if (n > data.size() - pos) n = data.size() - pos;
    if (!p.feed(data.data() + pos, n, out)) break;
    pos += n;
  }
  std::string o;
  for (const auto& r : out) o += responseText(r) + "\n";
  return o + (p.failed() ? "FAILED" : "ok");
}

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
inline bool isUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 0 : b >= 0xC2 && b <= 0xDF ? 1 : b >= 0xE0 && b <= 0xEF ? 2 : b >= 0xF0 && b <= 0xF4 ? 3 : 9;
    if (n == 9 || i + n >= s.size()) return false;
    uint32_t cp = n == 0 ? b : b & (0x3F >> n);
    for (size_t k = 1; k <= n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp < 0xE000))
      return false;
    i += n + 1;
  }
  return true;
}

// What the engine reads from one FETCH response's data list: the items, the
// decoded envelope and flags, and the preview part picked from BODYSTRUCTURE.
struct FetchDecoded {
  imap::Event event;
  bool hasBodystructure = false, hasPreviewPart = false;
  imap::PreviewPart preview;
};

inline FetchDecoded decodeFetch(const imap::Value& items) {
  FetchDecoded d;
  imap::FetchItems f = imap::parseFetchItems(items);
  imap::fillNewMessage(d.event, 1, f, 1);
  if (!items.isList()) return d;
  for (size_t i = 0; i + 1 < items.list.size(); i += 2) {
    if (!items.list[i].atomIs("BODYSTRUCTURE") && !items.list[i].atomIs("BODY")) continue;
    d.hasBodystructure = true;
    d.hasPreviewPart = imap::choosePreviewPart(items.list[i + 1], d.preview) || d.hasPreviewPart;
  }
  return d;
}

}  // namespace fuzzsupport
