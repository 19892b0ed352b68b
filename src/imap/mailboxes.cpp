#include "imap/mailboxes.h"

#include <map>
#include <memory>

#include "imap/fetch.h"
#include "core/mutf7.h"

namespace imap {

namespace {

const char* const kSpecialUse[] = {"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"};

}  // namespace

std::string guessSpecialUse(const std::string& name) {
  static const std::map<std::string, std::string> common = {
      {"SENT", "\\Sent"},          {"SENT ITEMS", "\\Sent"},     {"SENT MAIL", "\\Sent"},
      {"SENT MESSAGES", "\\Sent"}, {"DRAFTS", "\\Drafts"},       {"DRAFT", "\\Drafts"},
      {"TRASH", "\\Trash"},        {"DELETED ITEMS", "\\Trash"}, {"DELETED MESSAGES", "\\Trash"},
      {"BIN", "\\Trash"},          {"JUNK", "\\Junk"},           {"SPAM", "\\Junk"},
      {"JUNK E-MAIL", "\\Junk"},   {"ARCHIVE", "\\Archive"},     {"ARCHIVES", "\\Archive"},
      {"ALL MAIL", "\\All"},       {"STARRED", "\\Flagged"},
  };
  auto it = common.find(upper(name));
  return it == common.end() ? std::string() : it->second;
}

bool parseListResponse(const std::vector<Value>& args, FolderInfo& out) {
  if (args.size() < 3 || !args[0].isList() || !args[2].isText()) return false;
  out = FolderInfo{};
  for (const auto& f : args[0].list) {
    if (!f.isText()) continue;
    out.flags.push_back(f.str);
    for (const char* su : kSpecialUse)
      if (iequals(f.str, su)) out.specialUse = su;
    if (iequals(f.str, "\\Subscribed")) out.subscribed = true;
  }
  if (args[1].isText()) out.delimiter = args[1].str;
  out.path = mutf7ToUtf8(args[2].str);
  size_t cut = out.delimiter.empty() ? std::string::npos : out.path.rfind(out.delimiter);
  out.name = cut == std::string::npos ? out.path : out.path.substr(cut + out.delimiter.size());
  if (iequals(out.path, "INBOX")) out.path = out.name = "INBOX";
  if (out.specialUse.empty()) out.specialUse = guessSpecialUse(out.name);
  return true;
}

void listFolders(LentClient* conn,
                 std::function<void(std::vector<FolderInfo>, const std::string&, const std::string&)> done) {
  auto folders = std::make_shared<std::vector<FolderInfo>>();
  auto subscribed = std::make_shared<std::vector<std::string>>();
  bool extended = conn->hasCap("LIST-EXTENDED");
  conn->untagged = [folders, subscribed](const Response& r) {
    FolderInfo info;
    if (r.keyword == "LIST" && parseListResponse(r.args, info)) folders->push_back(std::move(info));
    else if (r.keyword == "LSUB" && parseListResponse(r.args, info)) subscribed->push_back(info.path);
  };
  std::string cmd = "LIST \"\" \"*\"";
  if (extended) cmd += conn->hasCap("SPECIAL-USE") ? " RETURN (SUBSCRIBED SPECIAL-USE)" : " RETURN (SUBSCRIBED)";
  auto finish = [conn, folders, done](const Response& r) {
    conn->untagged = nullptr;
    if (r.status != "OK") {
      done({}, "COMMAND_FAILED", "LIST failed: " + describe(r));
      return;
    }
    done(std::move(*folders), {}, {});
  };
  conn->send(cmd, [conn, extended, subscribed, folders, finish](const Response& r) {
    if (r.status != "OK" || extended) {
      finish(r);
      return;
    }
    // Without LIST-EXTENDED, subscriptions come from LSUB.
    conn->send("LSUB \"\" \"*\"", [subscribed, folders, finish](const Response& r2) {
      for (auto& f : *folders)
        for (const auto& s : *subscribed)
          if (s == f.path) f.subscribed = true;
      finish(r2);
    });
  });
}

}  // namespace imap
