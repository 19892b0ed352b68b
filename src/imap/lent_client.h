// A command connection lent to one job at a time (the pool's): the job
// routes untagged responses to itself while it holds the connection, and
// hears when the connection is gone. Jobs in imap/ (listFolders,
// fetchMessage) take this, not the pool's type, so they need nothing above
// imap/.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "imap/client.h"

namespace imap {

class LentClient : public ImapClient {
 public:
  using ImapClient::ImapClient;
  std::function<void(const Response&)> untagged;
  std::function<void(const ResponseCode&)> codes;
  // The lessee's commands will never complete: the connection is gone.
  std::function<void(const std::string& code, const std::string& message)> lost;
  std::string selected;  // wire name of the selected mailbox, "" when none
  uint32_t selectedUidValidity = 0;  // its UIDVALIDITY, from the SELECT
  bool qresync = false;  // ENABLE QRESYNC is in effect
};

}  // namespace imap
