#include "core/parser.h"

#include <cstring>
#include <utility>

#include "core/tokenizer.h"

namespace imap {

using detail::isAtomChar;
using detail::isDigit;
using detail::parseU64;
using detail::Tokenizer;

namespace {

// After a response, a buffer grown by a big literal is released rather than
// kept for the life of the connection.
constexpr size_t kKeepCapacity = 64 * 1024;


// Keyword, status and response-code names: atom characters without brackets.
inline bool isWordChar(unsigned char c) { return c != '[' && isAtomChar(c, true); }

inline bool isTagChar(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '"':
    case '\\':
    case '%':
    case '*':
    case '+':
      return false;
    default:
      return true;
  }
}

bool isStatusWord(const std::string& w) {
  return w == "OK" || w == "NO" || w == "BAD" || w == "BYE" || w == "PREAUTH";
}


size_t scanWord(const char* s, size_t p, size_t end) {
  while (p < end && isWordChar(static_cast<unsigned char>(s[p]))) ++p;
  return p;
}

// resp-text after the status word or '+': optional [code], then text.
void parseRespText(const char* s, size_t pos, size_t end, size_t maxDepth, std::vector<Value>& items,
                   std::vector<size_t>& opens, Response& r) {
  if (pos < end && s[pos] == ' ') ++pos;
  if (pos < end && s[pos] == '[') {
    size_t nameBegin = pos + 1;
    size_t nameEnd = scanWord(s, nameBegin, end);
    Tokenizer t(s, nameEnd, end, maxDepth, true, items, opens);
    std::vector<Value> args;
    size_t close;
    if (t.run(args) && t.pos < end && s[t.pos] == ']') {
      close = t.pos;
    } else {
      // Unknown codes may carry free text that doesn't tokenise.
      args.clear();
      const void* hit = std::memchr(s + nameBegin, ']', end - nameBegin);
      close = hit ? static_cast<size_t>(static_cast<const char*>(hit) - s) : std::string::npos;
    }
    if (close != std::string::npos) {
      ResponseCode code;
      code.name = upper(std::string_view(s + nameBegin, nameEnd - nameBegin));
      code.args = std::move(args);
      code.raw.assign(s + nameBegin, close - nameBegin);
      r.code = std::move(code);
      pos = close + 1;
      if (pos < end && s[pos] == ' ') ++pos;
    }
  }
  r.text.assign(s + pos, end - pos);
}

// If the line [b, e) ends in a literal marker ({n}, {n+}, ~{n}), its size.
// Returns -1 when the size overflows, 0 when there is no marker.
int literalMarker(const char* s, size_t b, size_t e, uint64_t& n) {
  if (e == b || s[e - 1] != '}') return 0;
  size_t j = e - 1;
  if (j > b && s[j - 1] == '+') --j;
  size_t k = j;
  while (k > b && isDigit(static_cast<unsigned char>(s[k - 1]))) --k;
  if (k == j || k == b || s[k - 1] != '{') return 0;
  return parseU64(s, k, j, n) ? 1 : -1;
}

}  // namespace

bool parseValues(const std::string& s, size_t& pos, size_t end, std::vector<Value>& out,
                 size_t maxDepth, std::string& err) {
  if (end > s.size()) end = s.size();
  if (pos > end) pos = end;
  std::vector<Value> items;
  std::vector<size_t> opens;
  Tokenizer t(s.data(), pos, end, maxDepth, false, items, opens);
  bool ok = t.run(out);
  pos = t.pos;
  if (!ok) err = std::move(t.err);
  return ok;
}

Parser::Parser() = default;

Parser::Parser(Limits limits) : limits_(limits) {}

void Parser::reset() {
  buf_.clear();
  buf_.shrink_to_fit();
  lineStart_ = 0;
  literalLeft_ = 0;
  error_.clear();
}

bool Parser::fail(std::string why) {
  error_ = std::move(why);
  if (error_.empty()) error_ = "parse error";
  buf_.clear();
  buf_.shrink_to_fit();
  lineStart_ = 0;
  literalLeft_ = 0;
  return false;
}

bool Parser::feed(const char* data, size_t len, std::vector<Response>& out) {
  if (failed()) return false;
  return scan(data, len, out);
}

// Only the current response is ever buffered: input is consumed a line or a
// literal at a time, and every limit is checked before bytes are appended.
bool Parser::scan(const char* p, size_t n, std::vector<Response>& out) {
  while (n > 0) {
    if (literalLeft_ > 0) {
      size_t take = literalLeft_ < n ? literalLeft_ : n;
      buf_.append(p, take);
      p += take;
      n -= take;
      literalLeft_ -= take;
      if (literalLeft_ == 0) lineStart_ = buf_.size();
      continue;
    }
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', n));
    size_t take = lf ? static_cast<size_t>(lf - p) + 1 : n;
    size_t lineBytes = buf_.size() - lineStart_ + take;
    if (buf_.size() + take > limits_.maxResponse) return fail("response too large");
    if (!lf) {
      // One byte of slack for a CR whose LF hasn't arrived.
      if (lineBytes > limits_.maxLine + 1) return fail("line too long");
      buf_.append(p, take);
      return true;
    }
    if (lineBytes > limits_.maxLine + 2) return fail("line too long");
    buf_.append(p, take);
    p += take;
    n -= take;

    size_t lineEnd = buf_.size() - 1;
    if (lineEnd > lineStart_ && buf_[lineEnd - 1] == '\r') --lineEnd;
    if (lineEnd - lineStart_ > limits_.maxLine) return fail("line too long");

    uint64_t litLen = 0;
    int marker = literalMarker(buf_.data(), lineStart_, lineEnd, litLen);
    if (marker < 0) return fail("literal size out of range");
    if (marker > 0) {
      if (litLen > limits_.maxLiteral) return fail("literal too large");
      if (litLen > limits_.maxResponse - buf_.size()) return fail("response too large");
      literalLeft_ = static_cast<size_t>(litLen);
      lineStart_ = buf_.size();
      continue;
    }

    if (lineEnd > 0) {  // blank lines between responses are ignored
      Response r;
      if (!parseResponse(lineEnd, r)) return false;
      out.push_back(std::move(r));
    }
    buf_.clear();
    if (buf_.capacity() > kKeepCapacity) buf_.shrink_to_fit();
    lineStart_ = 0;
  }
  return true;
}

bool Parser::parseResponse(size_t end, Response& r) {
  const char* s = buf_.data();
  size_t maxDepth = limits_.maxDepth;
  char first = s[0];

  if (first == '+') {
    r.type = Response::Type::Continuation;
    parseRespText(s, 1, end, maxDepth, items_, opens_, r);
    return true;
  }

  if (first == '*') {
    r.type = Response::Type::Untagged;
    size_t pos = 1;
    while (pos < end && s[pos] == ' ') ++pos;
    size_t wEnd = scanWord(s, pos, end);
    if (wEnd == pos) return fail("untagged response without a keyword");
    bool numeric = true;
    for (size_t i = pos; i < wEnd; ++i)
      if (!isDigit(static_cast<unsigned char>(s[i]))) numeric = false;
    if (numeric) {
      uint64_t num;
      if (!parseU64(s, pos, wEnd, num)) return fail("message number out of range");
      r.number = num;
      pos = wEnd;
      while (pos < end && s[pos] == ' ') ++pos;
      wEnd = scanWord(s, pos, end);
      if (wEnd == pos) return fail("untagged response without a keyword");
    }
    std::string word = upper(std::string_view(s + pos, wEnd - pos));
    if (!numeric && isStatusWord(word)) {
      r.status = std::move(word);
      parseRespText(s, wEnd, end, maxDepth, items_, opens_, r);
      return true;
    }
    r.keyword = std::move(word);
    Tokenizer t(s, wEnd, end, maxDepth, false, items_, opens_);
    if (!t.run(r.args)) return fail(r.keyword + ": " + t.err);
    return true;
  }

  r.type = Response::Type::Tagged;
  size_t pos = 0;
  while (pos < end && s[pos] != ' ') {
    if (!isTagChar(static_cast<unsigned char>(s[pos]))) return fail("malformed response line");
    ++pos;
  }
  if (pos == 0) return fail("malformed response line");
  r.tag.assign(s, pos);
  while (pos < end && s[pos] == ' ') ++pos;
  size_t wEnd = scanWord(s, pos, end);
  r.status = upper(std::string_view(s + pos, wEnd - pos));
  if (!isStatusWord(r.status)) return fail("tagged response without a status: " + r.tag);
  parseRespText(s, wEnd, end, maxDepth, items_, opens_, r);
  return true;
}

}  // namespace imap
