#include "text/rfc2047.h"

#include <optional>
#include <utility>
#include <vector>

#include "core/base64.h"
#include "text/charset.h"
#include "core/value.h"

namespace imap {

namespace {

// ---- RFC 2047 ---------------------------------------------------------------

bool isTokenChar(char c) { return c > 0x20 && c < 0x7F && c != '?'; }
bool isLwsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int hexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string decodeQ(std::string_view t) {
  std::string r;
  r.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_') {
      r += ' ';
    } else if (t[i] == '=' && i + 2 < t.size() && hexVal(t[i + 1]) >= 0 && hexVal(t[i + 2]) >= 0) {
      r += static_cast<char>(hexVal(t[i + 1]) << 4 | hexVal(t[i + 2]));
      i += 2;
    } else {
      r += t[i];  // lone '=' kept, as lenient decoders do
    }
  }
  return r;
}

std::optional<std::string> decodeB(std::string_view t) {
  // Encoders that drop the padding are common enough to accept.
  if (t.size() % 4 == 1) return std::nullopt;
  std::string padded(t);
  padded.append((4 - t.size() % 4) % 4, '=');
  return base64Decode(padded);
}

struct Segment {
  size_t begin = 0, end = 0;  // range in the unfolded input
  bool word = false;
  std::string charset;  // words only, without RFC 2231 language
  std::string bytes;    // words only, transfer-decoded
};

Segment plainSegment(size_t begin, size_t end) {
  Segment p;
  p.begin = begin;
  p.end = end;
  return p;
}

// Parses "=?charset?enc?text?=" at s[i]; false if this is not a decodable word.
bool parseWord(std::string_view s, size_t i, Segment& w) {
  if (s.compare(i, 2, "=?") != 0) return false;
  size_t p = i + 2, csBegin = p;
  while (p < s.size() && isTokenChar(s[p])) ++p;
  if (p == csBegin || p + 3 > s.size() || s[p] != '?' || s[p + 2] != '?') return false;
  std::string_view charset = s.substr(csBegin, p - csBegin);
  char enc = s[p + 1];
  size_t tBegin = p + 3, q = tBegin;
  while (q < s.size() && isTokenChar(s[q])) ++q;
  if (q + 1 >= s.size() || s[q] != '?' || s[q + 1] != '=') return false;
  std::string_view text = s.substr(tBegin, q - tBegin);

  charset = charset.substr(0, charset.find('*'));
  if (charset.empty()) return false;
  std::optional<std::string> bytes;
  if (enc == 'B' || enc == 'b')
    bytes = decodeB(text);
  else if (enc == 'Q' || enc == 'q')
    bytes = decodeQ(text);
  if (!bytes) return false;
  w.begin = i;
  w.end = q + 2;
  w.word = true;
  w.charset = std::string(charset);
  w.bytes = std::move(*bytes);
  return true;
}

std::string unfold(std::string_view in) {
  std::string r;
  r.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r' && i + 2 < in.size() && in[i + 1] == '\n' && (in[i + 2] == ' ' || in[i + 2] == '\t')) {
      ++i;
      continue;
    }
    if (in[i] == '\n' && i + 1 < in.size() && (in[i + 1] == ' ' || in[i + 1] == '\t')) continue;
    r += in[i];
  }
  return r;
}

bool allLwsp(std::string_view s) {
  for (char c : s)
    if (!isLwsp(c)) return false;
  return true;
}

}  // namespace

std::string decodeWords(std::string_view in) {
  const std::string s = unfold(in);
  const std::string_view sv = s;

  std::vector<Segment> segs;
  size_t plainBegin = 0;
  for (size_t i = sv.find("=?"); i != std::string_view::npos; i = sv.find("=?", i)) {
    Segment w;
    if (!parseWord(sv, i, w)) {
      ++i;
      continue;
    }
    if (i > plainBegin) segs.push_back(plainSegment(plainBegin, i));
    plainBegin = w.end;
    i = w.end;
    segs.push_back(std::move(w));
  }
  if (plainBegin < sv.size()) segs.push_back(plainSegment(plainBegin, sv.size()));

  // Converted per run of same-charset words, so a character split across
  // words (common from sloppy encoders) survives.
  struct Piece {
    std::string text;
    bool decoded = false;
    bool blank = false;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (!segs[i].word) {
      std::string_view t = sv.substr(segs[i].begin, segs[i].end - segs[i].begin);
      Piece p;
      appendPlain(t, p.text);
      p.blank = allLwsp(t);
      pieces.push_back(std::move(p));
      continue;
    }
    const std::string& cs = segs[i].charset;
    auto sameCharsetWord = [&](size_t k) { return k < segs.size() && segs[k].word && iequals(segs[k].charset, cs); };
    auto blank = [&](size_t k) {
      return k < segs.size() && !segs[k].word && allLwsp(sv.substr(segs[k].begin, segs[k].end - segs[k].begin));
    };
    std::string bytes = segs[i].bytes;
    size_t last = i;
    while (true) {
      if (sameCharsetWord(last + 1))
        last += 1;  // "?==?" with nothing between
      else if (blank(last + 1) && sameCharsetWord(last + 2))
        last += 2;
      else
        break;
      bytes += segs[last].bytes;
    }
    Piece p;
    p.decoded = toUtf8(segs[i].charset, bytes, p.text);
    if (!p.decoded) p.text = std::string(sv.substr(segs[i].begin, segs[last].end - segs[i].begin));
    pieces.push_back(std::move(p));
    i = last;
  }

  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i].blank && i > 0 && i + 1 < pieces.size() && pieces[i - 1].decoded && pieces[i + 1].decoded)
      continue;
    out += pieces[i].text;
  }
  return out;
}

}  // namespace imap
