#include "requests.h"

#include <string>
#include <vector>

#include "convert.h"

namespace binding {

namespace {

std::string str(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::String>().Utf8Value(); }

}  // namespace

const char* storeArgs(const Napi::CallbackInfo& info, imap::StoreRequest& req) {
  if (!info[2].IsString() || !info[3].IsString() || !info[4].IsString() || !toStringList(info[5], req.flags) || !info[6].IsNumber())
    return "storeFlags(requestId, accountId, folder, uids, op, flags, unchangedSince)";
  std::string op = str(info, 4);
  using Op = imap::StoreRequest::Op;
  req.op = op == "remove" ? Op::Remove : op == "set" ? Op::Set : Op::Add;
  req.folder = str(info, 2);
  req.uids = str(info, 3);
  req.unchangedSince = static_cast<uint64_t>(info[6].As<Napi::Number>().Int64Value());
  return nullptr;
}

const char* copyArgs(const Napi::CallbackInfo& info, imap::CopyRequest& req) {
  if (!info[2].IsString() || !info[3].IsString() || !info[4].IsString() || !info[5].IsBoolean())
    return "copyMessages(requestId, accountId, folder, uids, destination, move)";
  req.folder = str(info, 2);
  req.uids = str(info, 3);
  req.destination = str(info, 4);
  req.move = info[5].As<Napi::Boolean>().Value();
  return nullptr;
}

// kinds[i] is 'a' (atom), 's' (string), '(' or ')'; texts[i] its text.
const char* searchArgs(const Napi::CallbackInfo& info, imap::SearchRequest& req) {
  std::vector<std::string> texts;
  const char* usage = "searchMessages(requestId, accountId, folder, kinds, texts)";
  if (!info[2].IsString() || !info[3].IsString() || !toStringList(info[4], texts)) return usage;
  std::string kinds = str(info, 3);
  if (kinds.size() != texts.size()) return usage;
  req.folder = str(info, 2);
  using K = imap::SearchToken::Kind;
  for (size_t i = 0; i < kinds.size(); ++i) {
    K kind = kinds[i] == 's' ? K::String : kinds[i] == '(' ? K::Open : kinds[i] == ')' ? K::Close : K::Atom;
    req.criteria.push_back({kind, std::move(texts[i])});
  }
  return nullptr;
}

const char* appendArgs(const Napi::CallbackInfo& info, imap::AppendRequest& req) {
  if (!info[2].IsString() || !info[3].IsBuffer() || !toStringList(info[4], req.flags) || !info[5].IsString() || !info[6].IsString())
    return "appendMessage(requestId, accountId, folder, raw, flags, internalDate, messageId)";
  auto raw = info[3].As<Napi::Buffer<char>>();
  req.folder = str(info, 2);
  req.raw.assign(raw.Data(), raw.Length());
  req.internalDate = str(info, 5);
  req.messageId = str(info, 6);
  return nullptr;
}

// op: "create" | "rename" | "delete" | "subscribe" | "unsubscribe"; `to` for a rename.
const char* folderArgs(const Napi::CallbackInfo& info, imap::FolderRequest& req) {
  if (!info[2].IsString() || !info[3].IsString() || !info[4].IsString()) return "folderCommand(requestId, accountId, op, path, to)";
  using Op = imap::FolderRequest::Op;
  std::string op = str(info, 2);
  req.op = op == "rename" ? Op::Rename : op == "delete" ? Op::Delete : op == "subscribe" ? Op::Subscribe
           : op == "unsubscribe" ? Op::Unsubscribe : Op::Create;
  req.path = str(info, 3);
  req.to = str(info, 4);
  return nullptr;
}

const char* listArgs(const Napi::CallbackInfo& info, imap::ListRequest& req) {
  if (!info[2].IsString() || !info[3].IsString() || !info[4].IsBoolean() || !info[5].IsBoolean())
    return "listMessages(requestId, accountId, folder, uids, bodyStructure, headers)";
  req.folder = str(info, 2);
  req.uids = str(info, 3);
  req.bodyStructure = info[4].As<Napi::Boolean>().Value();
  req.headers = info[5].As<Napi::Boolean>().Value();
  return nullptr;
}

const char* partArgs(const Napi::CallbackInfo& info, imap::PartRequest& req) {
  if (!info[2].IsString() || !info[3].IsNumber() || !info[4].IsString() || !info[5].IsNumber())
    return "downloadPart(requestId, accountId, folder, uid, section, maxBytes)";
  req.folder = str(info, 2);
  req.uid = info[3].As<Napi::Number>().Uint32Value();
  req.section = str(info, 4);
  req.maxBytes = static_cast<uint64_t>(info[5].As<Napi::Number>().Int64Value());
  return nullptr;
}

}  // namespace binding
