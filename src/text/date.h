// Mail dates: RFC 5322 date-time and IMAP INTERNALDATE.
#pragma once

#include <cmath>
#include <string_view>

namespace imap {

// RFC 5322 date-time (obsolete forms tolerated, day name optional, zone as
// +hhmm or named like GMT/UT/EST). Returns ms since epoch or NaN.
double parseRfc5322Date(std::string_view s);
// IMAP INTERNALDATE "17-Jul-1996 02:44:25 -0700". Returns ms or NaN.
double parseInternalDate(std::string_view s);

}  // namespace imap
