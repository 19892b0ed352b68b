#include "mime/preview.h"

#include <cctype>

namespace imap {

namespace {

bool isAttachment(const Value& part) {
  // body-fld-dsp is a list ("attachment" (...)) somewhere in the extension
  // data; a "name" parameter marks one too.
  for (const auto& v : part.list) {
    if (v.isList() && !v.list.empty() && v.list[0].isText() && iequals(v.list[0].str, "attachment")) return true;
  }
  if (part.list.size() > 2 && part.list[2].isList()) {
    const auto& params = part.list[2].list;
    for (size_t i = 0; i + 1 < params.size(); i += 2)
      if (params[i].isText() && iequals(params[i].str, "name")) return true;
  }
  return false;
}

std::string param(const Value& part, std::string_view name) {
  if (part.list.size() < 3 || !part.list[2].isList()) return {};
  const auto& params = part.list[2].list;
  for (size_t i = 0; i + 1 < params.size(); i += 2)
    if (params[i].isText() && iequals(params[i].str, name) && params[i + 1].isText()) return params[i + 1].str;
  return {};
}

void walk(const Value& part, const std::string& section, PreviewPart* plain, PreviewPart* html, int depth) {
  if (!part.isList() || part.list.empty() || depth > 32) return;
  if (part.list[0].isList()) {  // multipart: children, then the subtype
    int n = 0;
    for (const auto& child : part.list) {
      if (!child.isList()) break;
      ++n;
      walk(child, section.empty() ? std::to_string(n) : section + "." + std::to_string(n), plain, html, depth + 1);
    }
    return;
  }
  if (part.list.size() < 7 || !part.list[0].isText() || !part.list[1].isText()) return;
  if (!iequals(part.list[0].str, "text") || isAttachment(part)) return;
  bool isHtml = iequals(part.list[1].str, "html");
  bool isPlain = iequals(part.list[1].str, "plain");
  PreviewPart* slot = isPlain ? plain : isHtml ? html : nullptr;
  if (!slot || !slot->section.empty()) return;
  slot->section = section.empty() ? "1" : section;
  slot->encoding = part.list[5].isText() ? upper(part.list[5].str) : "7BIT";
  slot->charset = param(part, "charset");
  slot->html = isHtml;
}

}  // namespace

bool choosePreviewPart(const Value& bodystructure, PreviewPart& out) {
  PreviewPart plain, html;
  walk(bodystructure, "", &plain, &html, 0);
  if (!plain.section.empty()) out = plain;
  else if (!html.section.empty()) out = html;
  else return false;
  for (auto& c : out.encoding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return true;
}

std::string htmlToText(std::string_view html) {
  static const std::pair<std::string_view, std::string_view> entities[] = {
      {"&nbsp;", " "}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&apos;", "'"}};
  std::string out;
  size_t i = 0;
  while (i < html.size()) {
    char c = html[i];
    if (c == '<') {
      // <style> and <script> contents are not text.
      for (std::string_view skip : {"style", "script"}) {
        if (html.size() - i > skip.size() + 1 && iequals(html.substr(i + 1, skip.size()), skip)) {
          size_t end = html.find("</", i + 1);
          while (end != std::string_view::npos && !iequals(html.substr(end + 2, skip.size()), skip))
            end = html.find("</", end + 2);
          if (end != std::string_view::npos) i = end;
        }
      }
      size_t close = html.find('>', i);
      if (close == std::string_view::npos) break;
      out += ' ';
      i = close + 1;
      continue;
    }
    if (c == '&') {
      bool matched = false;
      for (const auto& [name, text] : entities) {
        if (html.substr(i, name.size()) == name) {
          out += text;
          i += name.size();
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    out += c;
    ++i;
  }
  return out;
}

std::string makePreview(std::string_view text, size_t chars) {
  std::string out;
  size_t count = 0;
  bool space = false;
  for (size_t i = 0; i < text.size() && count < chars;) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '\f' || b == '\v') {
      space = !out.empty();
      ++i;
      continue;
    }
    if (space) {
      out += ' ';
      ++count;
      space = false;
      if (count >= chars) break;
    }
    size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
    if (i + len > text.size()) len = text.size() - i;
    out.append(text.substr(i, len));
    i += len;
    ++count;
  }
  return out;
}

const Value* bodyPart(const Value& structure, const std::string& section) {
  const Value* node = &structure;
  size_t pos = 0;
  while (pos <= section.size()) {
    size_t dot = section.find('.', pos);
    size_t end = dot == std::string::npos ? section.size() : dot;
    if (end == pos || end - pos > 4) return nullptr;
    size_t n = 0;
    for (size_t i = pos; i < end; ++i) {
      if (section[i] < '0' || section[i] > '9') return nullptr;
      n = n * 10 + static_cast<size_t>(section[i] - '0');
    }
    bool multipart = node->isList() && !node->list.empty() && node->list[0].isList();
    if (multipart) {
      // Children first, then the subtype string: the n-th list is part n.
      if (n == 0 || n > node->list.size() || !node->list[n - 1].isList()) return nullptr;
      node = &node->list[n - 1];
    } else if (n != 1 || pos != 0) {
      return nullptr;  // a single-part message has only part 1; message/rfc822 insides are not addressed
    }
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  bool single = node->isList() && node->list.size() >= 7 && node->list[0].isText();
  return single ? node : nullptr;
}

}  // namespace imap
