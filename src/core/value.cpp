#include "core/value.h"

namespace imap {

namespace {
// IMAP keywords are ASCII; std::toupper would be a libc call per character
// (and follows the locale), which showed in the fetch profile.
constexpr char asciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c; }
}  // namespace

std::string upper(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = asciiUpper(c);
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (asciiUpper(a[i]) != asciiUpper(b[i])) return false;
  return true;
}

std::optional<uint32_t> checkedU32(uint64_t n) {
  if (n > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(n);
}

uint32_t toU32(const Value& v) { return v.isNumber() ? checkedU32(v.num).value_or(0) : 0; }

bool Value::atomIs(std::string_view s) const { return kind == Kind::Atom && iequals(str, s); }

Value Value::atom(std::string s) {
  Value v;
  v.kind = Kind::Atom;
  v.str = std::move(s);
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.kind = Kind::String;
  v.str = std::move(s);
  return v;
}

Value Value::number(uint64_t n) {
  Value v;
  v.kind = Kind::Number;
  v.num = n;
  v.str = std::to_string(n);
  return v;
}

Value Value::nil() { return Value{}; }

Value Value::makeList(std::vector<Value> items) {
  Value v;
  v.kind = Kind::List;
  v.list = std::move(items);
  return v;
}

}  // namespace imap
