// What the engine knows about one folder of one account. Shared by the IDLE
// watcher and the sync that run for that folder, so that a message is
// reported once whichever of them sees it first; persisted by the store.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/uidset.h"
#include "core/value.h"
#include "model/folder_info.h"

namespace imap {

// What a SELECT's answer says about the mailbox, as IDLE and sync both read
// it before comparing with FolderState.
struct SelectedMailbox {
  uint32_t exists = 0, uidValidity = 0, uidNext = 0;
  uint64_t highestModseq = 0;
  bool gotExists = false;

  // Takes UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ from a SELECT's response
  // codes (args[0] holds the number; UIDs past 32 bits count as none).
  void noteCode(const std::string& name, const std::vector<Value>& args) {
    if (args.empty()) return;
    if (name == "UIDVALIDITY") uidValidity = toU32(args[0]);
    else if (name == "UIDNEXT") uidNext = toU32(args[0]);
    else if (name == "HIGHESTMODSEQ" && args[0].isNumber()) highestModseq = args[0].num;
  }
};

struct FolderState {
  uint32_t uidValidity = 0;
  uint32_t uidNext = 0;  // watermark: every UID below it has been reported
  uint64_t highestModseq = 0;
  uint32_t exists = 0;  // as the IDLE connection last saw it (for status)
};

struct FolderRuntime {
  std::string accountId;
  std::string folder;
  FolderState fs;
  bool initialDone = false;  // the first sync's sync.initial report happened
  bool dirty = false;        // changed since last persisted
  bool fromStore = false;    // loaded from the state file at start

  // UIDs known to exist below uidNext: deletion detection without QRESYNC
  // compares this with the server's list. Valid once a sync built it.
  UidSet known;
  bool knownValid = false;
  // Flags of the newest messages (uid -> "\Seen \Flagged"), for servers
  // without CONDSTORE, where only a comparison reveals flag changes.
  std::map<uint32_t, std::string> flagWindow;

  // UIDs already reported deleted. UIDs are never reused under one
  // UIDVALIDITY, so this only grows; as ranges it stays small. It keeps a
  // QRESYNC resync from repeating what IDLE's VANISHED already said.
  UidSet gone;

  // The UIDs of `uids` whose deletion was not seen before (and, with a UID
  // list, that are on it); remembers them. O(ranges + flag memory erased):
  // never walks a range, so the caller decides what it can afford to report.
  UidSet claimGone(const UidSet& uids) {
    UidSet fresh = (knownValid ? known.intersect(uids) : uids).minus(gone);
    if (fresh.empty()) return fresh;
    gone.addAll(fresh);
    known.removeAll(fresh);
    for (const auto& [a, b] : fresh.ranges()) flagWindow.erase(flagWindow.lower_bound(a), flagWindow.upper_bound(b));
    dirty = true;
    return fresh;
  }

  // True when `uid` has not been reported yet; claims it. The last UID is
  // never claimed: no UIDNEXT could follow it.
  bool claimNew(uint32_t uid) {
    if (uid == 0 || uid == UidSet::kMaxUid || uid < fs.uidNext) return false;
    fs.uidNext = uid + 1;
    known.add(uid);
    dirty = true;
    return true;
  }

  // Flags seen for a message: true (and remembered) unless they are what
  // was last reported, so IDLE and sync never report one change twice.
  bool flagsChanged(uint32_t uid, const std::string& joined) {
    auto [w, inserted] = flagWindow.emplace(uid, joined);
    if (!inserted && w->second == joined) return false;
    w->second = joined;
    dirty = true;
    return true;
  }

  // Keeps the newest `keep` entries of the flag memory.
  void trimFlagWindow(size_t keep) {
    while (flagWindow.size() > keep) flagWindow.erase(flagWindow.begin());
  }

  void resetForNewUidValidity(uint32_t uidValidity) {
    fs = FolderState{};
    fs.uidValidity = uidValidity;
    known.clear();
    knownValid = false;
    flagWindow.clear();
    gone.clear();
    initialDone = false;
    dirty = true;
  }
};

}  // namespace imap
