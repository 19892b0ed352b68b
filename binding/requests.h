// The mailbox actions' arguments from JS, read into the engine's request
// structs. lib/ has validated them; these catch a caller that went around
// it. Each returns nullptr, or the usage line for the TypeError to throw.
// Arguments 0 and 1 (requestId, accountId) are read by the caller.
#pragma once

#include <napi.h>

#include "model/actions.h"

namespace binding {

const char* storeArgs(const Napi::CallbackInfo& info, imap::StoreRequest& req);
const char* copyArgs(const Napi::CallbackInfo& info, imap::CopyRequest& req);
const char* searchArgs(const Napi::CallbackInfo& info, imap::SearchRequest& req);
const char* appendArgs(const Napi::CallbackInfo& info, imap::AppendRequest& req);
const char* folderArgs(const Napi::CallbackInfo& info, imap::FolderRequest& req);
const char* listArgs(const Napi::CallbackInfo& info, imap::ListRequest& req);
const char* partArgs(const Napi::CallbackInfo& info, imap::PartRequest& req);

}  // namespace binding
