// Parses a whole RFC 5322 / MIME message (BODY[] bytes) into one flat,
// UTF-8 structure: top-level headers, addresses, text, html, attachments.
//
// Pure C++17 with no Node-API, so it can run on any thread: every mimetic
// object it uses is created inside the call and never shared (mimetic's
// const getters mutate state and its composing counters are static).
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "text/address.h"

namespace imap {

// Hard limits; hitting any of them sets ParsedMessage::truncated and the
// parse still returns everything found before the limit. They bound CPU,
// memory and stack use for hostile input.
struct MimeLimits {
  // Input bytes looked at; the rest is ignored (a base64 attachment cut by it
  // is decoded up to the cut).
  size_t maxBytes = 64u << 20;
  // Nesting of multipart containers. Deeper containers are skipped whole.
  size_t maxDepth = 32;
  // Header block of one entity (message or part). Fields past it are
  // dropped; the body still starts after the real end of the header.
  size_t maxHeaderBytes = 256u << 10;
  // Entities (message, parts) visited; later parts are skipped.
  size_t maxParts = 10000;
};

struct MimeAttachment {
  std::string filename;     // RFC 2231 / RFC 2047 decoded; empty if none
  std::string contentType;  // "type/subtype", lower case, no parameters
  std::string disposition;  // "attachment" or "inline"
  std::string contentId;    // as sent, e.g. "<logo@x>"; empty if none
  std::string content;      // transfer-decoded bytes
  size_t size() const { return content.size(); }
};

struct ParsedMessage {
  // Top-level fields in order: name as sent, value unfolded and RFC 2047
  // decoded to UTF-8.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string subject;
  std::vector<Address> from, sender, to, cc, bcc, replyTo;
  double date = NAN;  // ms since epoch; NaN when absent or unparseable
  std::string messageId, inReplyTo;  // "<id@host>" forms; empty if absent
  std::vector<std::string> references;
  // Inline text/plain and text/html bodies in UTF-8 with "\n" line ends.
  // Several inline parts of a kind are joined with a line break; within
  // multipart/alternative only the last (richest) part of a kind counts.
  std::string text, html;
  bool hasText = false, hasHtml = false;
  std::vector<MimeAttachment> attachments;
  size_t size = 0;         // input length in bytes, even past maxBytes
  bool truncated = false;  // some MimeLimits cut something off
};

// Never throws for malformed input (only std::bad_alloc can escape).
ParsedMessage parseMime(const char* data, size_t len, const MimeLimits& limits = MimeLimits());

}  // namespace imap
