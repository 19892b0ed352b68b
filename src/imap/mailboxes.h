// The folder list: LIST with SPECIAL-USE (RFC 6154) where offered, common
// names as a fallback, and subscription state.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "model/folder_info.h"
#include "imap/lent_client.h"

namespace imap {

// Runs LIST (and LSUB when LIST-EXTENDED is missing) on a leased connection.
void listFolders(LentClient* conn,
                 std::function<void(std::vector<FolderInfo>, const std::string& errorCode, const std::string& error)> done);

// Exposed for tests: one "* LIST" response's arguments into a FolderInfo.
bool parseListResponse(const std::vector<Value>& args, FolderInfo& out);
// The special-use attribute for a folder without one, guessed from its name.
std::string guessSpecialUse(const std::string& name);

}  // namespace imap
