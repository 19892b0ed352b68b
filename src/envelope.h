// Decoding of FETCH data into plain structs: ENVELOPE (RFC 3501 7.4.2),
// RFC 2047 encoded words, RFC 5322 dates and IMAP INTERNALDATE.
#pragma once

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "value.h"

namespace imap {

struct Address {
  std::string name;     // display name, RFC 2047-decoded, UTF-8
  std::string address;  // mailbox@host (or just mailbox when host is NIL)
};

struct Envelope {
  double date = NAN;  // ms since epoch; NaN when absent or unparseable
  std::string subject;
  std::vector<Address> from, sender, replyTo, to, cc, bcc;
  std::string inReplyTo;
  std::string messageId;
};

// Decodes an ENVELOPE list. Returns false when `v` is not a list of at least
// 10 items; tolerates NIL anywhere. Group syntax (RFC 3501: host NIL marks a
// group start/end) is flattened: the member addresses are kept, group markers
// are dropped.
bool decodeEnvelope(const Value& v, Envelope& out);

// Decodes RFC 2047 encoded words ("=?charset?B|Q?...?=") into UTF-8,
// converting charsets with iconv. Whitespace between adjacent encoded words
// is dropped, as RFC 2047 requires. Undecodable words are left as they are.
// Invalid UTF-8 in non-encoded text is kept as-is when it is valid UTF-8,
// otherwise interpreted as Latin-1.
std::string decodeWords(std::string_view in);

// Converts bytes in `charset` to UTF-8 with iconv. Returns false for an
// unknown charset. Invalid sequences become U+FFFD.
bool toUtf8(std::string_view charset, std::string_view in, std::string& out);

// RFC 5322 date-time (obsolete forms tolerated, day name optional, zone as
// +hhmm or named like GMT/UT/EST). Returns ms since epoch or NaN.
double parseRfc5322Date(std::string_view s);
// IMAP INTERNALDATE "17-Jul-1996 02:44:25 -0700". Returns ms or NaN.
double parseInternalDate(std::string_view s);

}  // namespace imap
