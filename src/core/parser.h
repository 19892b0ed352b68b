// Incremental IMAP4 response parser (RFC 9051 / RFC 3501).
//
// Bytes are fed as they arrive from the socket, split anywhere. A response is
// only tokenised once it is complete (its final CRLF seen, literals included),
// so the result never depends on how the input was split. Memory is bounded:
// a line longer than Limits::maxLine or a literal larger than
// Limits::maxLiteral puts the parser into the error state.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/value.h"

namespace imap {

struct ResponseCode {
  std::string name;         // upper-cased, e.g. "UIDVALIDITY", "CAPABILITY"
  std::vector<Value> args;  // e.g. UIDNEXT -> [Number], PERMANENTFLAGS -> [List]
  std::string raw;          // text between '[' and ']' as received
};

struct Response {
  enum class Type { Tagged, Untagged, Continuation };
  Type type = Type::Untagged;

  std::string tag;  // Tagged only

  // Status responses: "OK", "NO", "BAD", "BYE", "PREAUTH" (upper-cased).
  // Empty for untagged data responses and continuations.
  std::string status;
  std::optional<ResponseCode> code;  // the [bracketed] response code, if any
  std::string text;                  // human-readable text (status, continuation)

  // Untagged data: "* 23 EXISTS" -> number=23, keyword="EXISTS";
  // "* CAPABILITY IMAP4rev1 IDLE" -> keyword="CAPABILITY", args=[Atom...];
  // "* 3 FETCH (UID 9 FLAGS (\Seen))" -> number=3, keyword="FETCH", args=[List].
  // "* VANISHED (EARLIER) 41,43:116" -> keyword="VANISHED", args=[List, Atom].
  std::optional<uint64_t> number;
  std::string keyword;  // upper-cased
  std::vector<Value> args;

  bool isStatus() const { return !status.empty(); }
};

// The largest literal a connection accepts: the most a message fetch can
// ask for (lib/options.js MAX_BODY_BYTES must match).
constexpr size_t kMaxLiteralBytes = 64u << 20;

class Parser {
 public:
  struct Limits {
    size_t maxLine = 1 << 20;              // bytes of a line outside literals
    size_t maxLiteral = kMaxLiteralBytes;  // bytes of one literal
    size_t maxResponse = 128u << 20;       // bytes of a whole response
    size_t maxDepth = 64;                  // list nesting
  };

  Parser();
  explicit Parser(Limits limits);

  // Appends every response completed by these bytes to `out`. Returns false
  // once the input is malformed or over a limit; error() then says why and
  // every later feed() returns false until reset().
  bool feed(const char* data, size_t len, std::vector<Response>& out);

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Bytes buffered for an incomplete response (for tests and stats).
  size_t buffered() const { return buf_.size(); }
  // Drops buffered input and the error state (e.g. after STARTTLS, or on a
  // new connection).
  void reset();

 private:
  bool scan(const char* p, size_t n, std::vector<Response>& out);
  bool parseResponse(size_t end, Response& r);
  bool fail(std::string why);

  Limits limits_;
  std::string buf_;         // the incomplete response (nothing after it)
  size_t lineStart_ = 0;    // start of the current line within buf_
  size_t literalLeft_ = 0;  // bytes of literal still expected
  std::string error_;
  std::vector<Value> items_;  // tokeniser scratch, reused across responses
  std::vector<size_t> opens_;
};

// Tokenises a sequence of IMAP values (atoms, numbers, quoted strings,
// literals in {n}\r\n form, NIL, parenthesised lists). Exposed for tests and
// for parsing response-code arguments.
bool parseValues(const std::string& s, size_t& pos, size_t end, std::vector<Value>& out,
                 size_t maxDepth, std::string& err);

}  // namespace imap
