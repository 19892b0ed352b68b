#include "text/charset.h"

#include <iconv.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <utility>

#include "core/value.h"

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

}  // namespace

// Unlabelled 8-bit header text: UTF-8 if it is well-formed, else Latin-1.
void appendPlain(std::string_view s, std::string& out) {
  if (isValidUtf8(s))
    out.append(s);
  else
    appendLatin1(s, out);
}

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
  // Not every gconv module checks what it emits: glibc's UTF-8 decoder (which
  // aliases such as "+UTF-8" reach) passes code points past U+10FFFF through.
  if (isValidUtf8(r)) {
    out = std::move(r);
  } else {
    out.clear();
    appendSanitizedUtf8(r, out);
  }
  return true;
}

}  // namespace imap
