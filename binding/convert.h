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

// The header fields an ENVELOPE and a parsed message share, set alike.
template <class Headers>
void setHeaderFields(Napi::Env env, Napi::Object& o, const Headers& h) {
  o.Set("subject", h.subject);
  o.Set("from", addresses(env, h.from));
  o.Set("sender", addresses(env, h.sender));
  o.Set("to", addresses(env, h.to));
  o.Set("cc", addresses(env, h.cc));
  o.Set("bcc", addresses(env, h.bcc));
  o.Set("replyTo", addresses(env, h.replyTo));
  o.Set("date", dateOrNull(env, h.date));
}

const char* eventName(imap::Event::Type t);
Napi::Object toJs(Napi::Env env, const imap::Event& e);
Napi::Object toJs(Napi::Env env, const imap::FolderStatus& s);
Napi::Object toJs(Napi::Env env, const imap::PoolStats& s);
Napi::Object toJs(Napi::Env env, const imap::SyncStats& s);
bool toStringList(const Napi::Value& v, std::vector<std::string>& out);

}  // namespace binding
