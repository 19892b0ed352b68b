#include "mime/mime_syntax.h"

#include <algorithm>
#include <cctype>

#include "mime/mime_codec.h"
#include "core/value.h"
#include "text/rfc2047.h"

namespace imap::mime {

namespace {

bool isWsp(char c) { return c == ' ' || c == '\t'; }
bool isSpace(char c) { return isWsp(c) || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string lowerNoSpace(std::string_view s) {
  std::string r;
  for (char c : s)
    if (!isSpace(c)) r += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return r;
}

// The line starting at `pos`: its text without the line end, and where the
// next line starts.
struct Line {
  std::string_view text;
  size_t next;
};

Line lineAt(std::string_view s, size_t pos) {
  size_t nl = s.find('\n', pos);
  size_t end = nl == std::string_view::npos ? s.size() : nl;
  std::string_view text = s.substr(pos, end - pos);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return {text, nl == std::string_view::npos ? s.size() : nl + 1};
}

bool isFieldName(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n)
    if (c <= 32 || c >= 127 || c == ':') return false;
  return true;
}

// An unquoted parameter value up to ';'. A trailing "(comment)" is dropped
// but inner parentheses stay, so a sloppy `name=file (1).pdf` survives.
size_t readToken(std::string_view s, size_t i, std::string& out) {
  size_t end = s.find(';', i);
  if (end == std::string_view::npos) end = s.size();
  std::string_view v = trim(s.substr(i, end - i));
  if (!v.empty() && v.back() == ')') {
    size_t open = v.rfind('(');
    if (open != std::string_view::npos && open > 0 && isWsp(v[open - 1])) v = trim(v.substr(0, open));
  }
  out.assign(v);
  return end;
}

std::string percentDecode(std::string_view s) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      r += static_cast<char>(hex(s[i + 1]) << 4 | hex(s[i + 2]));
      i += 2;
    } else {
      r += s[i];
    }
  }
  return r;
}

// The delimiter line for `delim` ("--boundary") at or after `from`.
struct Delimiter {
  size_t begin = std::string_view::npos;  // npos: none
  size_t next = 0;                        // start of the following line
  bool closing = false;
};

Delimiter findDelimiter(std::string_view body, std::string_view delim, size_t from) {
  for (size_t p = body.find(delim, from); p != std::string_view::npos; p = body.find(delim, p + 1)) {
    if (p > 0 && body[p - 1] != '\n') continue;
    Line line = lineAt(body, p);
    if (line.text.size() < delim.size()) continue;  // a boundary ending in CR
    std::string_view rest = line.text.substr(delim.size());
    bool closing = rest.compare(0, 2, "--") == 0;
    if (closing) rest.remove_prefix(2);
    // Anything but transport padding means another, longer boundary.
    if (!trim(rest).empty()) continue;
    return {p, line.next, closing};
  }
  return {};
}

// The first line that looks like a delimiter, for a multipart whose
// boundary parameter is missing or wrong. Lines with spaces or without a
// letter or digit ("-- " signatures, "-----Original Message-----", rulers)
// are not taken for one.
std::string guessBoundary(std::string_view body) {
  for (size_t pos = 0; pos < body.size();) {
    Line line = lineAt(body, pos);
    std::string_view t = trim(line.text);
    pos = line.next;
    if (t.size() <= 2 || t.size() > 200 || t.compare(0, 2, "--") != 0 || line.text.front() != '-') continue;
    t.remove_prefix(2);
    if (t.size() > 2 && t.compare(t.size() - 2, 2, "--") == 0) t.remove_suffix(2);
    bool hasAlnum = std::any_of(t.begin(), t.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
    if (hasAlnum && std::none_of(t.begin(), t.end(), isSpace)) return std::string(t);
  }
  return {};
}

MultipartBody splitOn(std::string_view body, std::string_view boundary) {
  MultipartBody out;
  const std::string delim = "--" + std::string(boundary);
  Delimiter d = findDelimiter(body, delim, 0);
  while (d.begin != std::string_view::npos && !d.closing) {
    size_t start = d.next;
    d = findDelimiter(body, delim, start);
    size_t end = d.begin == std::string_view::npos ? body.size() : d.begin;
    // The line end before a delimiter belongs to the delimiter.
    if (d.begin != std::string_view::npos && end > start && body[end - 1] == '\n') --end;
    if (d.begin != std::string_view::npos && end > start && body[end - 1] == '\r') --end;
    out.parts.push_back(body.substr(start, end - start));
  }
  out.found = !out.parts.empty();
  return out;
}

}  // namespace

size_t readQuoted(std::string_view s, size_t i, std::string& out) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out += s[++i];
    } else if (s[i] == '"') {
      return i + 1;
    } else {
      out += s[i];
    }
  }
  return s.size();
}

size_t readComment(std::string_view s, size_t i, std::string& out) {
  int depth = 0;
  for (; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out += s[++i];
    } else if (s[i] == '(') {
      if (depth++ > 0) out += '(';
    } else if (s[i] == ')') {
      if (--depth == 0) return i + 1;
      out += ')';
    } else {
      out += s[i];
    }
  }
  return s.size();
}

HeaderBlock splitHeader(std::string_view entity, size_t maxHeaderBytes) {
  HeaderBlock hb;
  size_t pos = 0;
  while (pos < entity.size()) {
    Line line = lineAt(entity, pos);
    if (line.text.empty()) {
      pos = line.next;
      break;
    }
    const bool keep = line.next <= maxHeaderBytes;
    hb.truncated = hb.truncated || !keep;
    if (isWsp(line.text.front())) {
      if (keep && !hb.fields.empty()) hb.fields.back().value.append(line.text);
      pos = line.next;
      continue;
    }
    size_t colon = line.text.find(':');
    std::string_view name = line.text.substr(0, colon == std::string_view::npos ? 0 : colon);
    while (!name.empty() && isWsp(name.back())) name.remove_suffix(1);
    if (!isFieldName(name)) {
      if (pos == 0 && line.text.compare(0, 5, "From ") == 0) {
        pos = line.next;
        continue;
      }
      break;  // not a field: the body starts on this line
    }
    if (keep) hb.fields.push_back({std::string(name), std::string(line.text.substr(colon + 1))});
    pos = line.next;
  }
  hb.body = entity.substr(pos);
  for (auto& f : hb.fields) f.value = std::string(trim(f.value));
  return hb;
}

const std::string* findField(const std::vector<HeaderField>& fields, std::string_view name) {
  for (const auto& f : fields)
    if (iequals(f.name, name)) return &f.value;
  return nullptr;
}

std::string ParamValue::raw(std::string_view name) const {
  for (const auto& [n, v] : params)
    if (n == name) return v;
  return {};
}

std::string ParamValue::text(std::string_view name) const {
  struct Section {
    unsigned index;
    bool extended;
    std::string_view value;
  };
  std::vector<Section> sections;
  for (const auto& [n, v] : params) {
    if (n.size() <= name.size() || n.compare(0, name.size(), name) != 0 || n[name.size()] != '*') continue;
    std::string_view rest = std::string_view(n).substr(name.size() + 1);
    if (rest.empty()) {  // name*=charset'lang'value: complete on its own
      sections.assign(1, {0, true, v});
      break;
    }
    bool extended = rest.back() == '*';
    if (extended) rest.remove_suffix(1);
    if (rest.empty() || rest.size() > 4 || !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    sections.push_back({static_cast<unsigned>(std::stoul(std::string(rest))), extended, v});
  }
  if (sections.empty()) return decodeWords(raw(name));

  std::stable_sort(sections.begin(), sections.end(), [](const Section& a, const Section& b) { return a.index < b.index; });
  std::string charset, bytes;
  for (size_t k = 0; k < sections.size(); ++k) {
    std::string_view v = sections[k].value;
    if (!sections[k].extended) {
      bytes.append(v);
      continue;
    }
    if (k == 0) {
      size_t q1 = v.find('\''), q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
      if (q2 != std::string_view::npos) {
        charset.assign(v.substr(0, q1));
        v.remove_prefix(q2 + 1);
      }
    }
    bytes += percentDecode(v);
  }
  return charset.empty() ? decodeWords(bytes) : textToUtf8(charset, bytes);
}

ParamValue parseParamValue(std::string_view s) {
  ParamValue pv;
  size_t i = 0;
  std::string main;
  while (i < s.size() && s[i] != ';') {
    if (s[i] == '(') {
      std::string ignored;
      i = readComment(s, i, ignored);
    } else if (s[i] == '"') {
      i = readQuoted(s, i, main);
    } else {
      main += s[i++];
    }
  }
  pv.value = lowerNoSpace(main);

  while (i < s.size()) {
    ++i;  // ';'
    size_t eq = s.find_first_of("=;", i);
    if (eq == std::string_view::npos || s[eq] == ';') {  // a bare word: not a parameter
      i = eq == std::string_view::npos ? s.size() : eq;
      continue;
    }
    std::string name = lowerNoSpace(s.substr(i, eq - i));
    i = eq + 1;
    while (i < s.size() && isSpace(s[i])) ++i;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      i = readQuoted(s, i, value);
      i = std::min(s.find(';', i), s.size());
    } else {
      i = readToken(s, i, value);
    }
    if (!name.empty()) pv.params.emplace_back(std::move(name), std::move(value));
  }
  return pv;
}

std::vector<std::string> parseMessageIds(std::string_view s) {
  std::vector<std::string> ids;
  std::string bare;
  auto flushBare = [&] {
    if (!bare.empty()) ids.push_back(std::move(bare));
    bare.clear();
  };
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '(') {
      flushBare();
      std::string ignored;
      i = readComment(s, i, ignored);
    } else if (s[i] == '<') {
      flushBare();
      size_t close = s.find('>', i);
      if (close == std::string_view::npos) close = s.size() - 1;
      std::string id;
      for (char c : s.substr(i, close - i + 1))
        if (!isSpace(c)) id += c;
      if (id.back() != '>') id += '>';
      ids.push_back(std::move(id));
      i = close + 1;
    } else if (isSpace(s[i]) || s[i] == ',') {
      flushBare();
      ++i;
    } else {
      bare += s[i++];
    }
  }
  flushBare();
  return ids;
}

MultipartBody splitMultipart(std::string_view body, std::string_view boundary) {
  MultipartBody out = boundary.empty() ? MultipartBody{} : splitOn(body, boundary);
  if (out.found) return out;
  std::string guess = guessBoundary(body);
  if (guess.empty() || guess == boundary) return out;
  return splitOn(body, guess);
}

}  // namespace imap::mime
