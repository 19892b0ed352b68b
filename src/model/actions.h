// What the app asks to change in a mailbox, as the binding hands it over.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace imap {

struct StoreRequest {
  enum class Op { Add, Remove, Set };
  std::string folder;  // UTF-8
  std::string uids;    // a UID set, already canonical (UidSet::toString)
  Op op = Op::Add;
  std::vector<std::string> flags;  // atoms or \System flags, checked by validFlag
  uint64_t unchangedSince = 0;     // 0: unconditional (RFC 7162 UNCHANGEDSINCE otherwise)
};

// COPY, or MOVE (RFC 6851; without it COPY, then \Deleted and UID EXPUNGE
// of exactly those UIDs, which needs UIDPLUS).
struct CopyRequest {
  std::string folder, destination;  // UTF-8
  std::string uids;                 // canonical UID set
  bool move = false;
};

// SEARCH criteria as lib/ compiled them: keywords, numbers, dates and sets
// are atoms; anything a user typed is a String, sent quoted or as a literal.
struct SearchToken {
  enum class Kind { Atom, String, Open, Close };
  Kind kind = Kind::Atom;
  std::string text;
};

struct SearchRequest {
  std::string folder;  // UTF-8
  std::vector<SearchToken> criteria;
};

// One batch of engine.messages(): the UIDs whose list fields to fetch.
struct ListRequest {
  std::string folder;  // UTF-8
  std::string uids;    // canonical UID set, bounded by lib/
  bool bodyStructure = false;  // also BODYSTRUCTURE
  bool headers = false;        // also BODY.PEEK[HEADER]
};

// engine.downloadPart(): one body part, decoded, at most maxBytes of it.
struct PartRequest {
  std::string folder;   // UTF-8
  uint32_t uid = 0;
  std::string section;  // "1", "2.1": a BODYSTRUCTURE path, checked by lib/ and again here
  uint64_t maxBytes = 0;
};

// APPEND (RFC 3501 6.3.11). `messageId` (the raw message's Message-ID, or
// empty) finds the new UID by search when the server has no UIDPLUS.
struct AppendRequest {
  std::string folder;        // UTF-8
  std::string raw;           // the message, CRLF line ends
  std::vector<std::string> flags;
  std::string internalDate;  // RFC 3501 date-time ("02-Dec-2026 15:04:05 +0000"), or empty
  std::string messageId;
};

struct FolderRequest {
  enum class Op { Create, Rename, Delete, Subscribe, Unsubscribe };
  Op op = Op::Create;
  std::string path, to;  // UTF-8; `to` for Rename
};

// RFC 9208: one quota root and its resources (STORAGE in KiB, MESSAGE, ...).
struct QuotaResource {
  std::string name;
  uint64_t usage = 0, limit = 0;
};
struct QuotaRoot {
  std::string root;
  std::vector<QuotaResource> resources;
};

}  // namespace imap
