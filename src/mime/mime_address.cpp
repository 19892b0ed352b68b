#include "mime/mime_address.h"

#include <string>

#include "mime/mime_codec.h"
#include "mime/mime_syntax.h"
#include "text/rfc2047.h"

namespace imap::mime {

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string trimmed(std::string s) {
  size_t b = 0, e = s.size();
  while (b < e && isSpace(s[b])) ++b;
  while (e > b && isSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// One mailbox between separators, before it becomes an Address.
struct Chunk {
  std::vector<std::string> words;  // phrase or bare addr-spec pieces, unescaped
  std::string bare;                // the pieces joined as an addr-spec
  std::string angle;               // inside <...>
  bool hasAngle = false;
  bool hasAt = false;  // an '@' outside quotes: the pieces form an address
  std::string comment;

  bool empty() const { return words.empty() && !hasAngle && comment.empty(); }
  std::string phrase() const {
    std::string p;
    for (const auto& w : words) p += (p.empty() ? "" : " ") + w;
    return p;
  }
};

// "<@route,@x:user@host>" and stray spaces/comments -> "user@host".
std::string cleanAngle(std::string_view a) {
  std::string r;
  for (size_t i = 0; i < a.size();) {
    if (a[i] == '(') {
      std::string ignored;
      i = readComment(a, i, ignored);
    } else if (a[i] == '"') {
      std::string q;
      i = readQuoted(a, i, q);
      r += '"' + q + '"';
    } else {
      if (!isSpace(a[i])) r += a[i];
      ++i;
    }
  }
  if (!r.empty() && r[0] == '@' && r.find(':') != std::string::npos) r.erase(0, r.find(':') + 1);
  return r;
}

size_t readAngle(std::string_view s, size_t i, std::string& out) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '>') return i + 1;
    if (s[i] == '"') {  // a quoted local part may hold '>'
      size_t end = s.find('"', i + 1);
      end = end == std::string_view::npos ? s.size() : end + 1;
      out.append(s.substr(i, end - i));
      i = end - 1;
      continue;
    }
    out += s[i];
  }
  return s.size();
}

size_t readWord(std::string_view s, size_t i, std::string& out) {
  while (i < s.size() && !isSpace(s[i]) && std::string_view("\"(<,;:").find(s[i]) == std::string_view::npos) {
    if (s[i] == '[') {  // domain literal, may hold ':' (IPv6)
      size_t end = s.find(']', i);
      end = end == std::string_view::npos ? s.size() : end + 1;
      out.append(s.substr(i, end - i));
      i = end;
      continue;
    }
    out += s[i++];
  }
  return i;
}

std::vector<Chunk> chunks(std::string_view s) {
  std::vector<Chunk> list(1);
  for (size_t i = 0; i < s.size();) {
    Chunk& cur = list.back();
    char c = s[i];
    if (isSpace(c)) {
      ++i;
    } else if (c == ',' || c == ';') {  // ';' ends a group: members stay, flattened
      if (!cur.empty()) list.emplace_back();
      ++i;
    } else if (c == ':') {  // what came before was a group name
      if (!cur.hasAngle) cur = Chunk();
      ++i;
    } else if (c == '(') {
      std::string text;
      i = readComment(s, i, text);
      cur.comment += (cur.comment.empty() ? "" : " ") + trimmed(text);
    } else if (c == '<') {
      i = readAngle(s, i, cur.angle);
      cur.hasAngle = true;
    } else if (c == '"') {
      std::string text;
      i = readQuoted(s, i, text);
      cur.bare += '"' + text + '"';
      cur.words.push_back(std::move(text));
    } else {
      std::string word;
      i = readWord(s, i, word);
      if (word.empty()) word = s[i++];  // a lone '>' or similar junk
      cur.hasAt = cur.hasAt || word.find('@') != std::string::npos;
      cur.bare += word;
      cur.words.push_back(std::move(word));
    }
  }
  if (list.back().empty()) list.pop_back();
  return list;
}

}  // namespace

std::vector<Address> parseAddressList(std::string_view field) {
  std::vector<Chunk> list = chunks(field);
  std::vector<Address> out;
  std::string carried;  // "Doe" of "Doe, John <j@d>"
  for (size_t k = 0; k < list.size(); ++k) {
    const Chunk& c = list[k];
    Address a;
    if (c.hasAngle) {
      std::string phrase = c.phrase();
      if (!carried.empty()) phrase = phrase.empty() ? carried : carried + ", " + phrase;
      carried.clear();
      a.address = textToUtf8({}, cleanAngle(c.angle));
      a.name = decodeWords(phrase);
    } else if (c.hasAt) {
      a.address = textToUtf8({}, c.bare);
    } else if (k + 1 < list.size() && list[k + 1].hasAngle && !list[k + 1].words.empty() && c.comment.empty()) {
      carried = carried.empty() ? c.phrase() : carried + ", " + c.phrase();
      continue;
    } else if (c.words.size() == 1 && c.bare.front() != '"') {  // an atom: a local mailbox
      a.address = textToUtf8({}, c.bare);
    } else {
      a.name = decodeWords(c.phrase());
    }
    if (a.name.empty() && !c.comment.empty()) a.name = decodeWords(c.comment);
    a.name = trimmed(a.name);
    if (a.name.empty() && a.address.empty()) continue;
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace imap::mime
