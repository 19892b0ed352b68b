// Between a folder's in-memory state and its stored row.
#pragma once

#include "sync/folder.h"
#include "store/store.h"

namespace imap {

// The row to save for `rt` (its flag memory and reported deletions encoded
// into the opaque flag-window column).
StoredFolder folderRow(const FolderRuntime& rt);
// Restores what `row` remembers into `rt`.
void applyRow(const StoredFolder& row, FolderRuntime& rt);

// The flag memory, one "uid flags" line each, and the reported deletions as
// a "-gone <uid set>" line (no UID line starts with '-'). Exposed for tests.
std::string encodeWindow(const FolderRuntime& rt);
void decodeWindow(const std::string& s, FolderRuntime& rt);

}  // namespace imap
