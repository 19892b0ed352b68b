// JS <-> engine struct conversion. No engine logic lives here.
#pragma once

#include <napi.h>

#include "account.h"
#include "events.h"

namespace binding {

// Reads an already validated and defaulted account object (lib/options.js).
// Throws a JS TypeError (and returns false) on a shape mismatch.
bool toAccountConfig(const Napi::Object& o, imap::AccountConfig& out);

const char* eventName(imap::Event::Type t);
Napi::Object toJs(Napi::Env env, const imap::Event& e);
Napi::Object toJs(Napi::Env env, const imap::FolderStatus& s);

}  // namespace binding
