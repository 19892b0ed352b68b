// What the engine knows about one folder of one account. Shared by the IDLE
// watcher and the sync that run for that folder, so that a message is
// reported once whichever of them sees it first; persisted by the store.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace imap {

struct FolderState {
  uint32_t uidValidity = 0;
  uint32_t uidNext = 0;  // watermark: every UID below it has been reported
  uint64_t highestModseq = 0;
  uint32_t exists = 0;
};

struct FolderRuntime {
  std::string accountId;
  std::string folder;
  FolderState fs;
  bool initialDone = false;  // the first sync's sync.initial report happened
  bool dirty = false;        // changed since last persisted

  // True when `uid` has not been reported yet; claims it.
  bool claimNew(uint32_t uid) {
    if (uid == 0 || uid < fs.uidNext) return false;
    fs.uidNext = uid + 1;
    dirty = true;
    return true;
  }
};

}  // namespace imap
