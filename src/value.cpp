#include "value.h"

#include <cctype>

namespace imap {

std::string upper(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

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
