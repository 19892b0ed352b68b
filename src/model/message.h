// A message's ENVELOPE as events carry it.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "text/address.h"

namespace imap {

struct Envelope {
  double date = NAN;  // ms since epoch; NaN when absent or unparseable
  std::string subject;
  std::vector<Address> from, sender, replyTo, to, cc, bcc;
  std::string inReplyTo;
  std::string messageId;
};

}  // namespace imap
