#include "envelope.h"

#include <iconv.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <utility>

#include "auth.h"

namespace imap {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// ---- UTF-8 helpers ----------------------------------------------------------

// Length of the well-formed UTF-8 sequence starting at s[i], or 0.
size_t utf8SeqLen(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (cc & 0x3F);
  }
  if (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
  if (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
  return n;
}

bool isValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8SeqLen(s, i);
    if (!n) return false;
    i += n;
  }
  return true;
}

void appendSanitizedUtf8(std::string_view s, std::string& out) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8SeqLen(s, i);
    if (n) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append(kReplacement);
      ++i;
    }
  }
}

void appendLatin1(std::string_view s, std::string& out) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | c >> 6);
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
}

// Unlabelled 8-bit header text: UTF-8 if it is well-formed, else Latin-1.
void appendPlain(std::string_view s, std::string& out) {
  if (isValidUtf8(s))
    out.append(s);
  else
    appendLatin1(s, out);
}

// ---- charsets ---------------------------------------------------------------

// Labels whose real-world content is a superset encoding (what mail clients
// and WHATWG do), or that glibc does not know.
std::string iconvName(std::string cs) {
  static const struct {
    const char* label;
    const char* name;
  } kMap[] = {
      {"GB2312", "GB18030"},     {"EUC-CN", "GB18030"},         {"CSGB2312", "GB18030"},
      {"X-GBK", "GB18030"},      {"SHIFT_JIS", "CP932"},        {"SJIS", "CP932"},
      {"X-SJIS", "CP932"},       {"MS_KANJI", "CP932"},         {"CSSHIFTJIS", "CP932"},
      {"EUC-KR", "CP949"},       {"KS_C_5601-1987", "CP949"},   {"KS_C_5601-1989", "CP949"},
      {"ISO-8859-1", "CP1252"},  {"LATIN1", "CP1252"},          {"ISO-8859-8-I", "ISO-8859-8"},
  };
  for (const auto& m : kMap)
    if (cs == m.label) return m.name;
  return cs;
}

// Opening and closing a descriptor per conversion makes glibc unload and
// reload the gconv module whenever charsets alternate (~50 us each time), so
// descriptors are kept per thread (an iconv_t must not be shared).
class IconvCache {
 public:
  IconvCache() = default;
  IconvCache(const IconvCache&) = delete;
  IconvCache& operator=(const IconvCache&) = delete;
  ~IconvCache() {
    for (auto& e : entries_) iconv_close(e.second);
  }

  // A descriptor in its initial state, or (iconv_t)-1 for an unknown charset.
  iconv_t get(const std::string& name) {
    for (auto& e : entries_) {
      if (e.first == name) {
        iconv(e.second, nullptr, nullptr, nullptr, nullptr);
        return e.second;
      }
    }
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) return cd;
    if (entries_.size() == kMaxEntries) {
      iconv_close(entries_.front().second);
      entries_.erase(entries_.begin());
    }
    entries_.emplace_back(name, cd);
    return cd;
  }

 private:
  static constexpr size_t kMaxEntries = 16;
  std::vector<std::pair<std::string, iconv_t>> entries_;
};

// Keeps iconv suffixes ("//IGNORE") and other odd input away from iconv_open.
bool plausibleCharset(std::string_view cs) {
  if (cs.empty() || cs.size() > 40) return false;
  for (char c : cs) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == ':' || c == '+';
    if (!ok) return false;
  }
  return true;
}

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

// ---- dates ------------------------------------------------------------------

// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

unsigned daysInMonth(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// True if `tok` is a case-insensitive prefix (at least 3 letters) of `full`.
bool namePrefix(std::string_view tok, std::string_view full) {
  return tok.size() >= 3 && tok.size() <= full.size() && iequals(tok, full.substr(0, tok.size()));
}

// 1..12, or 0 when `tok` is not a month name or abbreviation.
unsigned monthIndex(std::string_view tok) {
  static const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                  "July",    "August",   "September", "October", "November", "December"};
  for (unsigned i = 0; i < 12; ++i)
    if (namePrefix(tok, kMonths[i])) return i + 1;
  return 0;
}

bool isDayName(std::string_view tok) {
  static const char* kDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  for (const char* d : kDays)
    if (namePrefix(tok, d)) return true;
  return false;
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int toInt(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// "h:m" or "h:m:s", one or two digits each; requireSeconds for INTERNALDATE.
bool parseTime(std::string_view tok, bool requireSeconds, int& h, int& m, int& s) {
  int parts[3] = {0, 0, 0};
  int count = 0;
  size_t pos = 0;
  while (true) {
    size_t colon = tok.find(':', pos);
    std::string_view part = tok.substr(pos, colon == std::string_view::npos ? std::string_view::npos : colon - pos);
    if (count == 3 || part.size() > 2 || !allDigits(part)) return false;
    parts[count++] = toInt(part);
    if (colon == std::string_view::npos) break;
    pos = colon + 1;
  }
  if (count < (requireSeconds ? 3 : 2)) return false;
  h = parts[0];
  m = parts[1];
  s = parts[2];
  return true;
}

// "+hhmm", and the sloppy "+hh:mm" and "+hh". Offset in minutes east of UTC.
bool parseNumericZone(std::string_view tok, int& offsetMin) {
  if (tok.size() < 3 || (tok[0] != '+' && tok[0] != '-')) return false;
  std::string_view d = tok.substr(1);
  std::string digits;
  if (d.size() == 5 && d[2] == ':')
    digits = std::string(d.substr(0, 2)) + std::string(d.substr(3));
  else if (d.size() == 4 || d.size() == 2)
    digits = std::string(d);
  if (digits.size() == 2) digits += "00";
  if (digits.size() != 4 || !allDigits(digits)) return false;
  int hh = toInt(std::string_view(digits).substr(0, 2)), mm = toInt(std::string_view(digits).substr(2));
  if (mm > 59) return false;
  offsetMin = (tok[0] == '-' ? -1 : 1) * (hh * 60 + mm);
  return true;
}

// RFC 5322 4.3 obsolete zones; anything else (military letters, "CEST") is
// unknown and, as the RFC suggests, taken as UTC.
int namedZoneOffsetMin(std::string_view tok) {
  static const struct {
    const char* name;
    int hours;
  } kZones[] = {{"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},    {"EST", -5}, {"EDT", -4},
                {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
  for (const auto& z : kZones)
    if (iequals(tok, z.name)) return z.hours * 60;
  return 0;
}

double composeDate(int64_t y, unsigned mon, int d, int h, int mi, int s, int offsetMin) {
  if (mon < 1 || mon > 12 || d < 1 || static_cast<unsigned>(d) > daysInMonth(y, mon) || h > 23 || mi > 59 ||
      s > 60)
    return NAN;
  int64_t secs = daysFromCivil(y, mon, static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 + s -
                 static_cast<int64_t>(offsetMin) * 60;
  return static_cast<double>(secs) * 1000.0;
}

std::string stripComments(std::string_view s) {
  std::string r;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (depth > 0 && c == '\\') {
      ++i;  // quoted-pair inside a comment
    } else if (c == '(') {
      if (depth++ == 0) r += ' ';
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      r += c;
    }
  }
  return r;
}

std::vector<std::string_view> splitTokens(std::string_view s) {
  std::vector<std::string_view> toks;
  size_t i = 0;
  auto sep = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ','; };
  while (i < s.size()) {
    while (i < s.size() && sep(s[i])) ++i;
    size_t b = i;
    while (i < s.size() && !sep(s[i])) ++i;
    if (i > b) toks.push_back(s.substr(b, i - b));
  }
  return toks;
}

// ---- envelope ---------------------------------------------------------------

std::string text(const Value& v) { return v.isText() ? v.str : std::string(); }

void decodeAddresses(const Value& v, std::vector<Address>& out) {
  if (!v.isList()) return;
  const auto& items = v.list;
  auto isAddr = [](const Value& a) { return a.isList() && a.list.size() >= 4; };
  // A NIL-host entry is a group start only if an end marker follows;
  // otherwise it is a bare local mailbox, which some servers send.
  size_t lastEnd = 0;
  for (size_t i = 0; i < items.size(); ++i)
    if (isAddr(items[i]) && items[i].list[2].isNil() && items[i].list[3].isNil()) lastEnd = i + 1;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!isAddr(items[i])) continue;
    const auto& a = items[i].list;
    if (a[3].isNil() && (a[2].isNil() || i + 1 < lastEnd)) continue;  // group marker
    std::string mailbox = text(a[2]), host = text(a[3]);
    Address addr;
    addr.name = decodeWords(text(a[0]));
    if (!mailbox.empty()) addr.address = host.empty() ? mailbox : mailbox + "@" + host;
    if (addr.name.empty() && addr.address.empty()) continue;
    out.push_back(std::move(addr));
  }
}

}  // namespace

bool toUtf8(std::string_view charset, std::string_view in, std::string& out) {
  std::string cs = upper(charset);
  if (cs == "UTF-8" || cs == "UTF8" || cs == "US-ASCII" || cs == "ASCII") {
    out.clear();
    appendSanitizedUtf8(in, out);  // 8-bit in "us-ascii" is nearly always UTF-8
    return true;
  }
  if (!plausibleCharset(cs)) return false;
  thread_local IconvCache descriptors;
  iconv_t cd = descriptors.get(iconvName(cs));
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;

  std::string r;
  r.reserve(in.size() * 2);
  char buf[1024];
  char* inp = const_cast<char*>(in.data());
  size_t inLeft = in.size();
  while (inLeft > 0) {
    char* outp = buf;
    size_t outLeft = sizeof buf;
    size_t rc = iconv(cd, &inp, &inLeft, &outp, &outLeft);
    int err = errno;
    r.append(buf, static_cast<size_t>(outp - buf));
    if (rc != static_cast<size_t>(-1) || err == E2BIG) continue;
    r.append(kReplacement);
    if (err != EILSEQ) break;  // EINVAL: truncated sequence at the end
    ++inp;
    --inLeft;
  }
  char* outp = buf;
  size_t outLeft = sizeof buf;
  iconv(cd, nullptr, nullptr, &outp, &outLeft);  // return to the initial shift state
  r.append(buf, static_cast<size_t>(outp - buf));
  out = std::move(r);
  return true;
}

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

bool decodeEnvelope(const Value& v, Envelope& out) {
  out = Envelope{};
  if (!v.isList() || v.list.size() < 10) return false;
  const auto& f = v.list;
  if (f[0].isText()) out.date = parseRfc5322Date(f[0].str);
  out.subject = decodeWords(text(f[1]));
  decodeAddresses(f[2], out.from);
  decodeAddresses(f[3], out.sender);
  decodeAddresses(f[4], out.replyTo);
  decodeAddresses(f[5], out.to);
  decodeAddresses(f[6], out.cc);
  decodeAddresses(f[7], out.bcc);
  out.inReplyTo = text(f[8]);
  out.messageId = text(f[9]);
  return true;
}

double parseRfc5322Date(std::string_view s) {
  const std::string clean = stripComments(s);
  int day = -1, h = 0, mi = 0, sec = 0, offsetMin = 0;
  unsigned month = 0;
  int64_t year = -1;
  bool haveTime = false, haveZone = false;
  // Fields are classified by shape rather than position, which also accepts
  // asctime-like "Mon Feb  7 21:52:25 1994" that some mailers emit.
  for (std::string_view tok : splitTokens(clean)) {
    if (haveZone) break;  // trailing junk such as a bare "PST"
    if (tok[0] == '+' || tok[0] == '-') {
      if (!parseNumericZone(tok, offsetMin)) offsetMin = 0;
      haveZone = true;
    } else if (allDigits(tok)) {
      if (day < 0 && tok.size() <= 2) {
        day = toInt(tok);
      } else if (year < 0 && tok.size() >= 2 && tok.size() <= 4) {
        int y = toInt(tok);
        year = tok.size() == 4 ? y : tok.size() == 3 ? 1900 + y : y < 50 ? 2000 + y : 1900 + y;
      } else {
        return NAN;
      }
    } else if (tok.find(':') != std::string_view::npos) {
      if (haveTime || !parseTime(tok, false, h, mi, sec)) return NAN;
      haveTime = true;
    } else if (month == 0 && monthIndex(tok)) {
      month = monthIndex(tok);
    } else if (day < 0 && month == 0 && year < 0 && !haveTime && isDayName(tok)) {
      // optional day-of-week
    } else if (haveTime) {
      offsetMin = namedZoneOffsetMin(tok);
      haveZone = true;
    } else {
      return NAN;
    }
  }
  if (day < 0 || month == 0 || year < 0) return NAN;
  return composeDate(year, month, day, h, mi, sec, offsetMin);
}

double parseInternalDate(std::string_view s) {
  size_t b = s.find_first_not_of(' ');
  if (b == std::string_view::npos) return NAN;
  s.remove_prefix(b);
  auto toks = splitTokens(s);
  if (toks.size() != 3) return NAN;
  std::string_view date = toks[0];
  size_t d1 = date.find('-');
  if (d1 == std::string_view::npos || date.size() != d1 + 9 || date[d1 + 4] != '-') return NAN;
  std::string_view dd = date.substr(0, d1), mon = date.substr(d1 + 1, 3), yyyy = date.substr(d1 + 5);
  if (dd.size() > 2 || !allDigits(dd) || !allDigits(yyyy)) return NAN;
  unsigned month = monthIndex(mon);
  int h, mi, sec, offsetMin;
  if (!month || !parseTime(toks[1], true, h, mi, sec) || toks[2].size() != 5 ||
      !parseNumericZone(toks[2], offsetMin))
    return NAN;
  return composeDate(toInt(yyyy), month, toInt(dd), h, mi, sec, offsetMin);
}

}  // namespace imap
