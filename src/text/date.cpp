#include "text/date.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/value.h"

namespace imap {

namespace {

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

}  // namespace

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
