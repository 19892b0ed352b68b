#include "mime/mime.h"

#include <algorithm>
#include <iterator>
#include <string_view>

#include "mime/mime_address.h"
#include "mime/mime_codec.h"
#include "mime/mime_syntax.h"
#include "core/value.h"
#include "text/rfc2047.h"
#include "text/date.h"

namespace imap {

namespace {

using mime::HeaderBlock;
using mime::ParamValue;

// What one entity contributes to the message.
struct Content {
  std::vector<std::string> text, html;  // inline pieces, UTF-8
  std::vector<MimeAttachment> attachments;
};

void appendJoined(const std::vector<std::string>& pieces, std::string& out) {
  for (const auto& p : pieces) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += p;
  }
}

std::string joined(const std::vector<std::string>& pieces) {
  std::string s;
  appendJoined(pieces, s);
  return s;
}

// CRLF (and a lone CR) become "\n" so text reads the same whatever the
// transfer encoding did to line ends.
std::string normalizeNewlines(std::string s) {
  size_t w = 0;
  for (size_t r = 0; r < s.size(); ++r) {
    if (s[r] == '\r') {
      s[w++] = '\n';
      if (r + 1 < s.size() && s[r + 1] == '\n') ++r;
    } else {
      s[w++] = s[r];
    }
  }
  s.resize(w);
  return s;
}

// The first field called `name`, or "" (which every caller treats as absent).
std::string field(const HeaderBlock& hb, std::string_view name) {
  const std::string* v = mime::findField(hb.fields, name);
  return v ? *v : std::string();
}

// For raw header bytes that are not decoded further (ids, types): 8-bit junk
// still comes out as valid UTF-8.
std::string utf8(std::string_view raw) { return mime::textToUtf8({}, raw); }

class Walker {
 public:
  Walker(const MimeLimits& limits, ParsedMessage& msg) : limits_(limits), msg_(msg) {}

  // `defaultType` is text/plain, or message/rfc822 inside multipart/digest.
  void entity(const HeaderBlock& hb, size_t depth, std::string_view defaultType, Content& out) {
    if (++parts_ > limits_.maxParts) return limitHit();
    msg_.truncated = msg_.truncated || hb.truncated;
    ParamValue type = mime::parseParamValue(field(hb, "content-type"));
    // RFC 2045 5.2: an unusable Content-Type means the default.
    if (type.value.find('/') == std::string::npos) type = mime::parseParamValue(defaultType);
    if (type.value.compare(0, 10, "multipart/") == 0) return multipart(hb, type, depth, out);
    leaf(hb, type, out);
  }

  void raw(std::string_view bytes, size_t depth, std::string_view defaultType, Content& out) {
    entity(mime::splitHeader(bytes, limits_.maxHeaderBytes), depth, defaultType, out);
  }

 private:
  void limitHit() { msg_.truncated = true; }

  void multipart(const HeaderBlock& hb, const ParamValue& type, size_t depth, Content& out) {
    if (depth >= limits_.maxDepth) return limitHit();
    mime::MultipartBody body = mime::splitMultipart(hb.body, type.raw("boundary"));
    if (!body.found) return leaf(hb, mime::parseParamValue("text/plain"), out);  // no usable boundary
    const std::string_view childType = type.value == "multipart/digest" ? "message/rfc822" : "text/plain";
    if (type.value != "multipart/alternative") {
      for (std::string_view part : body.parts) raw(part, depth + 1, childType, out);
      return;
    }
    // Alternatives are ordered plainest first: the last of each kind wins,
    // while attachments (inline images of an HTML alternative) all stay.
    std::string text, html;
    bool hasText = false, hasHtml = false;
    for (std::string_view part : body.parts) {
      Content alt;
      raw(part, depth + 1, childType, alt);
      if (!alt.text.empty()) {
        text = joined(alt.text);
        hasText = true;
      }
      if (!alt.html.empty()) {
        html = joined(alt.html);
        hasHtml = true;
      }
      std::move(alt.attachments.begin(), alt.attachments.end(), std::back_inserter(out.attachments));
    }
    if (hasText) out.text.push_back(std::move(text));
    if (hasHtml) out.html.push_back(std::move(html));
  }

  void leaf(const HeaderBlock& hb, const ParamValue& type, Content& out) {
    const ParamValue disposition = mime::parseParamValue(field(hb, "content-disposition"));
    std::string filename = disposition.text("filename");
    if (filename.empty()) filename = type.text("name");
    std::string content = mime::decodeTransfer(field(hb, "content-transfer-encoding"), hb.body);

    const bool isText = type.value == "text/plain" || type.value == "text/html";
    if (isText && disposition.value != "attachment" && filename.empty()) {
      auto& pieces = type.value == "text/html" ? out.html : out.text;
      pieces.push_back(normalizeNewlines(mime::textToUtf8(type.raw("charset"), content)));
      return;
    }
    MimeAttachment a;
    a.filename = std::move(filename);
    a.contentType = utf8(type.value);
    a.contentId = utf8(field(hb, "content-id"));
    // Without a disposition, a part referenced by Content-ID (multipart/
    // related) is shown inline; anything else is an attachment.
    a.disposition = disposition.value == "inline" || (disposition.value.empty() && !a.contentId.empty())
                        ? "inline"
                        : "attachment";
    a.content = std::move(content);
    out.attachments.push_back(std::move(a));
  }

  const MimeLimits& limits_;
  ParsedMessage& msg_;
  size_t parts_ = 0;
};

void readEnvelopeFields(const HeaderBlock& hb, ParsedMessage& m) {
  for (const auto& f : hb.fields) m.headers.emplace_back(f.name, decodeWords(f.value));
  m.subject = decodeWords(field(hb, "subject"));
  m.from = mime::parseAddressList(field(hb, "from"));
  m.sender = mime::parseAddressList(field(hb, "sender"));
  m.to = mime::parseAddressList(field(hb, "to"));
  m.cc = mime::parseAddressList(field(hb, "cc"));
  m.bcc = mime::parseAddressList(field(hb, "bcc"));
  m.replyTo = mime::parseAddressList(field(hb, "reply-to"));
  m.date = parseRfc5322Date(field(hb, "date"));
  auto ids = [&](std::string_view name) {
    std::vector<std::string> list = mime::parseMessageIds(field(hb, name));
    for (auto& id : list) id = utf8(id);
    return list;
  };
  auto first = [](std::vector<std::string> list) { return list.empty() ? std::string() : std::move(list.front()); };
  m.messageId = first(ids("message-id"));
  m.inReplyTo = first(ids("in-reply-to"));
  m.references = ids("references");
}

}  // namespace

ParsedMessage parseMime(const char* data, size_t len, const MimeLimits& limits) {
  ParsedMessage msg;
  msg.size = len;
  std::string_view input(data, std::min(len, limits.maxBytes));
  msg.truncated = len > limits.maxBytes;

  HeaderBlock top = mime::splitHeader(input, limits.maxHeaderBytes);
  readEnvelopeFields(top, msg);
  Content content;
  Walker(limits, msg).entity(top, 0, "text/plain", content);

  msg.hasText = !content.text.empty();
  msg.hasHtml = !content.html.empty();
  appendJoined(content.text, msg.text);
  appendJoined(content.html, msg.html);
  msg.attachments = std::move(content.attachments);
  return msg;
}

}  // namespace imap
