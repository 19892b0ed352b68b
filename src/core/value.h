// Parsed IMAP data items. Kept separate from the parser so that consumers
// (envelope decoding, session logic) depend only on the data model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imap {

struct Value {
  enum class Kind { Atom, String, Number, Nil, List };

  Kind kind = Kind::Nil;
  // Atom text (as sent, case preserved), or the bytes of a quoted string or
  // literal (unescaped), or the decimal text of a number.
  std::string str;
  uint64_t num = 0;
  std::vector<Value> list;

  bool isNil() const { return kind == Kind::Nil; }
  bool isList() const { return kind == Kind::List; }
  bool isNumber() const { return kind == Kind::Number; }
  bool isString() const { return kind == Kind::String; }
  bool isAtom() const { return kind == Kind::Atom; }
  // Atom, String or Number: something with text.
  bool isText() const { return kind == Kind::Atom || kind == Kind::String || kind == Kind::Number; }
  // Case-insensitive comparison of an atom's text.
  bool atomIs(std::string_view s) const;

  static Value atom(std::string s);
  static Value string(std::string s);
  static Value number(uint64_t n);
  static Value nil();
  static Value makeList(std::vector<Value> items);
};

// Server numbers (UIDs, counts, sequence numbers) are 32-bit: nullopt for
// anything larger, which a static_cast would silently truncate.
std::optional<uint32_t> checkedU32(uint64_t n);
// A Number value that fits in 32 bits, else 0 (never a valid UID, and an
// absent UIDNEXT/UIDVALIDITY to the session logic).
uint32_t toU32(const Value& v);

// Upper-case ASCII copy.
std::string upper(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

}  // namespace imap
