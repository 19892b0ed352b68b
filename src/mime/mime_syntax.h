// MIME syntax below the entity level: header blocks, structured fields with
// parameters (RFC 2045, RFC 2231), message-id lists, multipart bodies.
//
// These are parsed here rather than with mimetic: its header reader grows
// its buffers 128 bytes at a time (quadratic on long fields) and drops a last
// field that has no line end; its parameter splitter ignores quoting (a ';'
// inside a quoted boundary breaks the boundary); its tree parser recurses
// with no depth limit and matches boundaries anywhere in a line.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imap::mime {

struct HeaderField {
  std::string name;   // as sent
  std::string value;  // unfolded, trimmed, still encoded
};

struct HeaderBlock {
  std::vector<HeaderField> fields;
  std::string_view body;
  bool truncated = false;  // fields beyond maxHeaderBytes were dropped
};

// Splits an entity at its first empty line. A line that is neither a field
// nor a continuation ends the header early (a missing blank line), and a
// leading mbox "From " line is skipped. Lines may end in CRLF or LF.
HeaderBlock splitHeader(std::string_view entity, size_t maxHeaderBytes);

// Lexical helpers shared with the address parser. Each starts at the
// opening '"' or '(' at s[i], appends the unescaped content to `out` and
// returns the index after the closing character (or s.size() if unclosed).
size_t readQuoted(std::string_view s, size_t i, std::string& out);
size_t readComment(std::string_view s, size_t i, std::string& out);

// First field called `name` (case-insensitive), or nullptr.
const std::string* findField(const std::vector<HeaderField>& fields, std::string_view name);

// A field value with parameters, e.g. Content-Type or Content-Disposition.
struct ParamValue {
  std::string value;  // lower case, whitespace removed: "text/plain", "attachment"
  std::vector<std::pair<std::string, std::string>> params;  // names lower case, values unquoted

  // The parameter exactly as sent (for boundary, charset), or "".
  std::string raw(std::string_view name) const;
  // The parameter as UTF-8 text (for filename, name): RFC 2231 forms
  // (name*, name*0, name*0*=charset'lang'%XX) win over the plain one, and a
  // plain value is RFC 2047 decoded, as some mailers send it.
  std::string text(std::string_view name) const;
};

// Tolerant of stray spaces, a missing value, unterminated quotes and
// trailing comments.
ParamValue parseParamValue(std::string_view field);

// "<a@b> <c@d>" (comments and folding allowed) -> {"<a@b>", "<c@d>"}; ids
// without angle brackets are split on whitespace.
std::vector<std::string> parseMessageIds(std::string_view field);

struct MultipartBody {
  std::vector<std::string_view> parts;  // each part's header and body
  bool found = false;                   // false: not a single part delimited
};

// Splits a multipart body on delimiter lines ("--boundary" at a line start,
// then optional "--" and only whitespace). A missing closing delimiter ends
// the last part at the end of the body. When the boundary is empty or
// delimits nothing, the first line that looks like a delimiter is tried.
MultipartBody splitMultipart(std::string_view body, std::string_view boundary);

}  // namespace imap::mime
