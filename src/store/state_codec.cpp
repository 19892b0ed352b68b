#include "store/state_codec.h"

#include <charconv>

namespace imap {

std::string encodeWindow(const FolderRuntime& rt) {
  std::string out;
  if (!rt.gone.empty()) out += "-gone " + rt.gone.toString() + "\n";
  for (const auto& [uid, flags] : rt.flagWindow) out += std::to_string(uid) + " " + flags + "\n";
  return out;
}

void decodeWindow(const std::string& s, FolderRuntime& rt) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    std::string line = s.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.rfind("-gone ", 0) == 0) {
      if (auto gone = UidSet::parse(line.substr(6))) rt.gone = *gone;
      continue;
    }
    size_t sp = line.find(' ');
    const char* end = line.data() + (sp == std::string::npos ? line.size() : sp);
    uint32_t uid = 0;
    // A damaged line (or a number past 32 bits) is skipped, not truncated.
    auto [ptr, ec] = std::from_chars(line.data(), end, uid);
    if (ec != std::errc() || ptr != end || uid == 0) continue;
    rt.flagWindow[uid] = sp == std::string::npos ? std::string() : line.substr(sp + 1);
  }
}

StoredFolder folderRow(const FolderRuntime& rt) {
  StoredFolder row;
  row.accountId = rt.accountId;
  row.folder = rt.folder;
  row.uidValidity = rt.fs.uidValidity;
  row.uidNext = rt.fs.uidNext;
  row.highestModseq = rt.fs.highestModseq;
  row.uids = rt.knownValid ? rt.known.toString() : std::string();
  row.flagWindow = encodeWindow(rt);
  row.initialDone = rt.initialDone && rt.knownValid;
  return row;
}

void applyRow(const StoredFolder& row, FolderRuntime& rt) {
  rt.fs.uidValidity = row.uidValidity;
  rt.fs.uidNext = row.uidNext;
  rt.fs.highestModseq = row.highestModseq;
  rt.initialDone = row.initialDone;
  auto known = UidSet::parse(row.uids);
  rt.known = known ? *known : UidSet{};
  rt.knownValid = row.initialDone && known.has_value();
  decodeWindow(row.flagWindow, rt);
  rt.fromStore = true;
}

}  // namespace imap
