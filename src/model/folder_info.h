// Plain folder facts for events: a LIST entry and one folder's sync result.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace imap {

struct FolderInfo {
  std::string path;       // UTF-8, full hierarchy name
  std::string name;       // last hierarchy level
  std::string delimiter;  // "" for a flat namespace
  std::vector<std::string> flags;
  std::string specialUse;  // "\\Sent", "\\Trash", ... or ""
  bool subscribed = false;
};

// What STATUS says about a folder's counts: folderChanged and folderStatus.
// highestModseq is 0 on a server without CONDSTORE.
struct FolderCounts {
  uint32_t exists = 0, unseen = 0, uidNext = 0;
  uint64_t highestModseq = 0;
  bool operator==(const FolderCounts& o) const {
    return exists == o.exists && unseen == o.unseen && uidNext == o.uidNext && highestModseq == o.highestModseq;
  }
  bool operator!=(const FolderCounts& o) const { return !(*this == o); }
};

struct FolderSyncResult {
  std::string folder;
  uint32_t uidValidity = 0;
  uint64_t highestModseq = 0;
  uint32_t newMessages = 0, changed = 0, deleted = 0;
  double durationMs = 0;
  std::string errorCode, errorMessage;
};

}  // namespace imap
