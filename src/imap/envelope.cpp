#include "imap/envelope.h"

#include <utility>

#include "text/date.h"
#include "text/rfc2047.h"

namespace imap {

namespace {

// ---- envelope ---------------------------------------------------------------

std::string text(const Value& v) { return v.isText() ? v.str : std::string(); }

void decodeAddresses(const Value& v, std::vector<Address>& out) {
  if (!v.isList()) return;
  const auto& items = v.list;
  auto isAddr = [](const Value& a) { return a.isList() && a.list.size() >= 4; };
  // A NIL-host entry is a group start only if an end marker follows;
  // otherwise it is a bare local mailbox, which some servers send.
  size_t lastEnd = 0;
  for (size_t i = 0; i < items.size(); ++i)
    if (isAddr(items[i]) && items[i].list[2].isNil() && items[i].list[3].isNil()) lastEnd = i + 1;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!isAddr(items[i])) continue;
    const auto& a = items[i].list;
    if (a[3].isNil() && (a[2].isNil() || i + 1 < lastEnd)) continue;  // group marker
    std::string mailbox = text(a[2]), host = text(a[3]);
    Address addr;
    addr.name = decodeWords(text(a[0]));
    if (!mailbox.empty()) addr.address = host.empty() ? mailbox : mailbox + "@" + host;
    if (addr.name.empty() && addr.address.empty()) continue;
    out.push_back(std::move(addr));
  }
}

}  // namespace

bool decodeEnvelope(const Value& v, Envelope& out) {
  out = Envelope{};
  if (!v.isList() || v.list.size() < 10) return false;
  const auto& f = v.list;
  if (f[0].isText()) out.date = parseRfc5322Date(f[0].str);
  out.subject = decodeWords(text(f[1]));
  decodeAddresses(f[2], out.from);
  decodeAddresses(f[3], out.sender);
  decodeAddresses(f[4], out.replyTo);
  decodeAddresses(f[5], out.to);
  decodeAddresses(f[6], out.cc);
  decodeAddresses(f[7], out.bcc);
  out.inReplyTo = text(f[8]);
  out.messageId = text(f[9]);
  return true;
}

}  // namespace imap
