// Just enough JSON to read the expected-result files of test/corpus (no JSON
// library is a build dependency). Throws std::runtime_error on bad input.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace minijson {

struct Value {
  enum class Type { Null, Bool, Number, String, Array, Object } type = Type::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;  // in file order

  bool isNull() const { return type == Type::Null; }
  const Value* find(std::string_view key) const {
    for (const auto& [k, v] : object)
      if (k == key) return &v;
    return nullptr;
  }
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Value parseDocument() {
    Value v = parseValue();
    skipSpace();
    if (i_ != s_.size()) fail("trailing data");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("json: ") + what + " at " + std::to_string(i_)); }

  void skipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }

  bool consume(std::string_view word) {
    if (s_.compare(i_, word.size(), word) != 0) return false;
    i_ += word.size();
    return true;
  }

  Value parseValue() {
    skipSpace();
    if (i_ >= s_.size()) fail("unexpected end");
    Value v;
    char c = s_[i_];
    if (c == '{') {
      v.type = Value::Type::Object;
      ++i_;
      skipSpace();
      if (consume("}")) return v;
      do {
        skipSpace();
        std::string key = parseString();
        skipSpace();
        if (!consume(":")) fail("expected ':'");
        v.object.emplace_back(std::move(key), parseValue());
        skipSpace();
      } while (consume(","));
      if (!consume("}")) fail("expected '}'");
    } else if (c == '[') {
      v.type = Value::Type::Array;
      ++i_;
      skipSpace();
      if (consume("]")) return v;
      do v.array.push_back(parseValue());
      while ((skipSpace(), consume(",")));
      if (!consume("]")) fail("expected ']'");
    } else if (c == '"') {
      v.type = Value::Type::String;
      v.string = parseString();
    } else if (consume("null")) {
    } else if (consume("true") || consume("false")) {
      v.type = Value::Type::Bool;
      v.boolean = s_[i_ - 1] == 'e' && s_[i_ - 2] == 'u';
    } else {
      v.type = Value::Type::Number;
      std::string num(s_.substr(i_, s_.find_first_of(",]} \r\n\t", i_) - i_));
      char* end = nullptr;
      v.number = std::strtod(num.c_str(), &end);
      if (num.empty() || *end) fail("bad number");
      i_ += num.size();
    }
    return v;
  }

  unsigned hex4() {
    if (i_ + 4 > s_.size()) fail("short \\u escape");
    unsigned v = static_cast<unsigned>(std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16));
    i_ += 4;
    return v;
  }

  static void appendUtf8(unsigned cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string parseString() {
    if (!consume("\"")) fail("expected string");
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) fail("bad escape");
      char e = s_[i_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && consume("\\u")) cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4() - 0xDC00);
          appendUtf8(cp, out);
          break;
        }
        default: out += e;  // \" \\ \/
      }
    }
    if (!consume("\"")) fail("unterminated string");
    return out;
  }

  std::string_view s_;
  size_t i_ = 0;
};

inline Value parse(std::string_view text) { return Parser(text).parseDocument(); }

}  // namespace minijson
