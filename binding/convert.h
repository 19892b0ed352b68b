// JS <-> engine struct conversion. No engine logic lives here.
#pragma once

#include <napi.h>

#include "account.h"
#include "engine.h"
#include "events.h"

namespace binding {

// Reads an already validated and defaulted account object (lib/options.js).
// Throws a JS TypeError (and returns false) on a shape mismatch.
bool toAccountConfig(const Napi::Object& o, imap::AccountConfig& out);
bool toEngineConfig(const Napi::Object& o, imap::EngineConfig& out);

// Shared by the event and message conversions.
Napi::Value dateOrNull(Napi::Env env, double ms);  // NaN -> null
Napi::Array addresses(Napi::Env env, const std::vector<imap::Address>& list);
Napi::Array strings(Napi::Env env, const std::vector<std::string>& list);
Napi::Value stringOrNull(Napi::Env env, const std::string& s);  // "" -> null

const char* eventName(imap::Event::Type t);
Napi::Object toJs(Napi::Env env, const imap::Event& e);
Napi::Object toJs(Napi::Env env, const imap::FolderStatus& s);
Napi::Object toJs(Napi::Env env, const imap::PoolStats& s);
Napi::Object toJs(Napi::Env env, const imap::SyncStats& s);
bool toStringList(const Napi::Value& v, std::vector<std::string>& out);

}  // namespace binding
