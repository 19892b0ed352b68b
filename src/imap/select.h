// Selecting a mailbox on a lent connection, reused while it stays selected:
// a run of jobs on one folder costs one SELECT.
#pragma once

#include <functional>
#include <string>

#include "imap/lent_client.h"

namespace imap {

// Whether `folderUtf8` is the connection's selected mailbox now.
bool isSelected(const LentClient* conn, const std::string& folderUtf8);

// `done` gets "" when `folderUtf8` is selected (already, or now), else the
// server's answer as "NO [CODE] text"; the connection then has no selection.
void ensureSelected(LentClient* conn, const std::string& folderUtf8, std::function<void(const std::string& error)> done);

}  // namespace imap
