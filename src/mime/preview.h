// Short plain-text previews for notifications: which MIME part to read,
// chosen from BODYSTRUCTURE so only a few KiB are fetched, and the text
// itself (HTML reduced to text when there is no plain part).
#pragma once

#include <string>
#include <string_view>

#include "core/value.h"

namespace imap {

struct PreviewPart {
  std::string section;   // "1", "1.2", ... for BODY.PEEK[section]
  std::string encoding;  // content-transfer-encoding, lower case
  std::string charset;   // "" when unspecified
  bool html = false;
};

// The first inline text/plain part, else the first inline text/html part.
// False when the message has neither (e.g. only attachments).
bool choosePreviewPart(const Value& bodystructure, PreviewPart& out);
// The single part at `section` ("2.1": numbers from 1, at most 4 digits
// each) of a BODYSTRUCTURE, or null: a multipart, a part inside
// message/rfc822, a malformed section, or anything past what the structure holds.
const Value* bodyPart(const Value& structure, const std::string& section);
// Tags dropped, <br>/<p> as spaces, common entities decoded.
std::string htmlToText(std::string_view html);
// Whitespace collapsed, cut to `chars` code points (UTF-8 safe).
std::string makePreview(std::string_view text, size_t chars);

}  // namespace imap
