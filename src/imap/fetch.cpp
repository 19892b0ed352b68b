#include "imap/fetch.h"

#include "imap/envelope.h"
#include "text/date.h"

namespace imap {

const char* const kNewMessageItems = "(UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE)";
const char* const kNewMessageItemsModseq = "(UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE MODSEQ)";

FetchItems parseFetchItems(const Value& items) {
  FetchItems f;
  if (!items.isList()) return f;
  const auto& l = items.list;
  const Value* uid = nullptr;
  for (size_t i = 0; i + 1 < l.size(); i += 2) {
    const Value& key = l[i];
    const Value& val = l[i + 1];
    if (key.atomIs("UID")) uid = &val;
    else if (key.atomIs("FLAGS")) f.flags = &val;
    else if (key.atomIs("ENVELOPE")) f.envelope = &val;
    else if (key.atomIs("INTERNALDATE")) f.internalDate = &val;
    else if (key.atomIs("RFC822.SIZE")) f.size = val.num;
    else if (key.atomIs("MODSEQ") && val.isList() && !val.list.empty()) f.modseq = val.list[0].num;
  }
  if (uid) {
    f.uid = toU32(*uid);
    f.badUid = f.uid == 0;
  }
  return f;
}

// A flag is an atom (RFC 3501 flag-keyword). Quoted forms are tolerated, but
// not a space or control byte in one: flags are kept joined by spaces and
// stored a line each, so such a "flag" (a literal can carry a line break)
// would split into others, some of them for another UID, after a restart.
static bool flagText(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7F) return false;
  return true;
}

// \Recent is per session (and gone in IMAP4rev2): two connections see it
// differently, so it would read as a flag change that never happened.
std::vector<std::string> flagList(const Value& v) {
  std::vector<std::string> flags;
  if (!v.isList()) return flags;
  for (const auto& f : v.list)
    if (f.isText() && flagText(f.str) && !iequals(f.str, "\\Recent")) flags.push_back(f.str);
  return flags;
}

std::string joinFlags(const std::vector<std::string>& flags) {
  std::string s;
  for (const auto& f : flags) s += (s.empty() ? "" : " ") + f;
  return s;
}

std::vector<std::string> splitFlags(const std::string& joined) {
  std::vector<std::string> flags;
  size_t pos = 0;
  while (pos < joined.size()) {
    size_t sp = joined.find(' ', pos);
    if (sp == std::string::npos) sp = joined.size();
    if (sp > pos) flags.push_back(joined.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return flags;
}

std::string describe(const Response& r) {
  std::string s = r.status;
  if (r.code) s += " [" + r.code->raw + "]";
  if (!r.text.empty()) s += " " + r.text;
  return s;
}

void fillNewMessage(Event& e, uint32_t seq, const FetchItems& f, uint32_t uidValidity) {
  e.type = Event::Type::NewMessage;
  e.uid = f.uid;
  e.seq = seq;
  e.uidValidity = uidValidity;
  e.modseq = f.modseq;
  e.size = f.size;
  if (f.flags) e.flags = flagList(*f.flags);
  if (f.internalDate && f.internalDate->isText()) e.internalDate = parseInternalDate(f.internalDate->str);
  if (f.envelope) e.hasEnvelope = decodeEnvelope(*f.envelope, e.envelope);
}

void fillFlagsChanged(Event& e, uint32_t seq, const FetchItems& f) {
  e.type = Event::Type::FlagsChanged;
  e.uid = f.uid;
  e.seq = seq;
  e.modseq = f.modseq;
  if (f.flags) e.flags = flagList(*f.flags);
}

std::optional<UidSet> vanishedUids(const std::vector<Value>& args, bool& earlier) {
  earlier = !args.empty() && args[0].isList();
  for (const auto& a : args)
    if (a.isText()) return UidSet::parse(a.str);
  return std::nullopt;
}

const Value* fetchItem(const Value& items, std::string_view prefix) {
  if (!items.isList()) return nullptr;
  for (size_t i = 0; i + 1 < items.list.size(); i += 2) {
    const Value& key = items.list[i];
    if (key.isAtom() && key.str.size() >= prefix.size() && iequals(std::string_view(key.str).substr(0, prefix.size()), prefix))
      return &items.list[i + 1];
  }
  return nullptr;
}

}  // namespace imap
