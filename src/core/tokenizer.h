// The tokenizer behind Parser and parseValues: one response's bytes (its
// literals already complete) into Values. Private to core/: only parser.cpp
// includes it; it lives apart so each file reads as one job.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/value.h"

namespace imap {
namespace detail {

inline bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }

// Lenient atom character: anything printable or 8-bit except the characters
// that start or end another token. '[' is handled separately by the caller.
// In a response code ']' ends the code, so it can't be part of an atom there.
inline bool isAtomChar(unsigned char c, bool inCode) {
  if (c <= 0x20 || c == 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '"':
      return false;
    case ']':
      return !inCode;
    default:
      return true;
  }
}

// Parses [b, e) as a decimal uint64. False on overflow or empty input.
inline bool parseU64(const char* s, size_t b, size_t e, uint64_t& out) {
  if (b == e) return false;
  uint64_t n = 0;
  for (size_t i = b; i < e; ++i) {
    uint64_t d = static_cast<unsigned char>(s[i]) - '0';
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  out = n;
  return true;
}

struct Tokenizer {
  Tokenizer(const char* src, size_t from, size_t stop, size_t depthLimit, bool inResponseCode,
            std::vector<Value>& itemStack, std::vector<size_t>& openStack)
      : s(src), pos(from), end(stop), maxDepth(depthLimit), inCode(inResponseCode), items(itemStack), opens(openStack) {}

  const char* s;
  size_t pos;
  size_t end;
  size_t maxDepth;
  bool inCode;  // stop at a ']' outside lists (response-code arguments)
  // Items of all open lists share one scratch vector, reused across
  // responses, so each list is allocated once, at its final size.
  std::vector<Value>& items;
  std::vector<size_t>& opens;  // index in `items` where each open list starts
  std::string err;
  // No ']' exists between any position below this and it (see closeBracket).
  size_t noCloseBefore = 0;

  bool fail(const char* why) {
    err = std::string(why) + " at offset " + std::to_string(pos);
    return false;
  }

  // Values until `end` (or, inCode, an unnested ']', left at `pos`).
  bool run(std::vector<Value>& out) {
    items.clear();
    opens.clear();
    bool ok = tokens();
    if (ok) {
      out.reserve(out.size() + items.size());
      for (auto& v : items) out.push_back(std::move(v));
    }
    items.clear();
    if (items.capacity() > 4096) items.shrink_to_fit();
    if (opens.capacity() > 4096) opens.shrink_to_fit();
    return ok;
  }

  bool tokens() {
    for (;;) {
      while (pos < end && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
      if (pos >= end) {
        if (!opens.empty()) return fail("unbalanced '('");
        return true;
      }
      unsigned char c = static_cast<unsigned char>(s[pos]);
      switch (c) {
        case '(':
          if (opens.size() >= maxDepth) return fail("lists nested too deeply");
          opens.push_back(items.size());
          ++pos;
          continue;
        case ')': {
          if (opens.empty()) return fail("unexpected ')'");
          size_t first = opens.back();
          opens.pop_back();
          Value v;
          v.kind = Value::Kind::List;
          v.list.reserve(items.size() - first);
          for (size_t i = first; i < items.size(); ++i) v.list.push_back(std::move(items[i]));
          items.resize(first);
          items.push_back(std::move(v));
          ++pos;
          continue;
        }
        case '"':
          if (!quoted(items)) return false;
          continue;
        case '{':
          if (!literal(items, pos + 1)) return false;
          continue;
        case '~':
          if (pos + 1 < end && s[pos + 1] == '{') {
            if (!literal(items, pos + 2)) return false;
            continue;
          }
          break;
        case ']':
          if (inCode) {
            if (!opens.empty()) return fail("unbalanced '(' in response code");
            return true;
          }
          break;
        default:
          break;
      }
      if (c != '[' && !isAtomChar(c, inCode)) return fail("unexpected character");
      if (!atom(items)) return false;
    }
  }

  bool quoted(std::vector<Value>& out) {
    size_t start = pos;
    ++pos;
    std::string v;
    size_t run = pos;
    for (;;) {
      if (pos >= end) {
        pos = start;
        return fail("unterminated quoted string");
      }
      char c = s[pos];
      if (c == '"') break;
      if (c == '\r' || c == '\n') {
        pos = start;
        return fail("unterminated quoted string");
      }
      if (c == '\\') {
        v.append(s + run, pos - run);
        if (pos + 1 >= end || s[pos + 1] == '\r' || s[pos + 1] == '\n') {
          pos = start;
          return fail("unterminated quoted string");
        }
        char n = s[pos + 1];
        // Only \\ and \" are defined; keep anything else verbatim.
        if (n != '"' && n != '\\') v.push_back('\\');
        v.push_back(n);
        pos += 2;
        run = pos;
        continue;
      }
      ++pos;
    }
    v.append(s + run, pos - run);
    ++pos;
    out.push_back(Value::string(std::move(v)));
    return true;
  }

  // `p` is just after '{'. The scanner already checked the size limit.
  bool literal(std::vector<Value>& out, size_t p) {
    size_t digits = p;
    while (p < end && isDigit(static_cast<unsigned char>(s[p]))) ++p;
    uint64_t n = 0;
    if (p == digits) return fail("malformed literal");
    if (!parseU64(s, digits, p, n)) return fail("literal size out of range");
    if (p < end && s[p] == '+') ++p;
    if (p >= end || s[p] != '}') return fail("malformed literal");
    ++p;
    if (p < end && s[p] == '\r') ++p;
    if (p >= end || s[p] != '\n') return fail("literal not followed by CRLF");
    ++p;
    if (n > end - p) return fail("truncated literal");
    out.push_back(Value::string(std::string(s + p, static_cast<size_t>(n))));
    pos = p + static_cast<size_t>(n);
    return true;
  }

  // Index of the ']' closing the '[' at `p`, or npos. Section specs don't
  // nest, so the first ']' closes; remembering a failed search keeps a line
  // full of unmatched '[' linear.
  size_t closeBracket(size_t p) {
    if (p < noCloseBefore) return std::string::npos;
    for (size_t i = p + 1; i < end; ++i) {
      char c = s[i];
      if (c == ']') return i;
      if (c == '\r' || c == '\n') {
        noCloseBefore = i;
        return std::string::npos;
      }
    }
    noCloseBefore = end;
    return std::string::npos;
  }

  bool atom(std::vector<Value>& out) {
    size_t start = pos;
    bool allDigits = true;
    while (pos < end) {
      unsigned char c = static_cast<unsigned char>(s[pos]);
      if (c == '[') {
        // BODY[HEADER.FIELDS (A B)]<0>: the section, spaces and all, is part
        // of the atom. An unmatched '[' is just an atom character.
        size_t close = closeBracket(pos);
        pos = close == std::string::npos ? pos + 1 : close + 1;
        allDigits = false;
        continue;
      }
      if (!isAtomChar(c, inCode)) break;
      if (!isDigit(c)) allDigits = false;
      ++pos;
    }
    size_t len = pos - start;
    if (allDigits) {
      uint64_t n;
      if (!parseU64(s, start, pos, n)) {
        pos = start;
        return fail("number out of range");
      }
      Value v;
      v.kind = Value::Kind::Number;
      v.num = n;
      v.str.assign(s + start, len);
      out.push_back(std::move(v));
    } else if (len == 3 && iequals(std::string_view(s + start, 3), "NIL")) {
      out.push_back(Value::nil());
    } else {
      out.push_back(Value::atom(std::string(s + start, len)));
    }
    return true;
  }
};

}  // namespace detail
}  // namespace imap
