// Reading one message (or just enough of it for a preview) over a leased
// pooled connection.
#pragma once

#include <functional>
#include <string>

#include "imap/lent_client.h"

namespace imap {

struct MessageRequest {
  std::string folder;  // UTF-8
  uint32_t uid = 0;
  size_t maxBytes = 64u << 20;  // whole-message fetch: at most this much
  bool whole = true;            // false: a preview only
  size_t previewChars = 0;
};

struct MessageOutcome {
  bool found = false;
  std::string raw;      // whole: the message bytes (maybe cut at maxBytes)
  uint64_t size = 0;    // RFC822.SIZE: the whole message, however much was read
  std::string preview;  // preview-only requests
  std::string errorCode, errorMessage;
};

void fetchMessage(LentClient* conn, MessageRequest req, std::function<void(MessageOutcome)> done);

}  // namespace imap
