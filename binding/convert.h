// JS <-> engine struct conversion. No engine logic lives here.
#pragma once

#include <napi.h>

#include "model/account.h"
#include "engine/api.h"
#include "model/events.h"
#include "keys.h"

namespace binding {

// Reads an already validated and defaulted account object (lib/options.js).
// Throws a JS TypeError (and returns false) on a shape mismatch.
bool toAccountConfig(const Napi::Object& o, imap::AccountConfig& out);
bool toEngineConfig(const Napi::Object& o, imap::EngineConfig& out);

// Shared by the event and message conversions.
Napi::Value dateOrNull(Napi::Env env, double ms);  // NaN -> null
Napi::Array addresses(const Keys& k, const std::vector<imap::Address>& list);
Napi::Array strings(Napi::Env env, const std::vector<std::string>& list);
Napi::Value stringOrNull(Napi::Env env, const std::string& s);  // "" -> null

// The header fields an ENVELOPE and a parsed message share, set alike.
template <class Headers>
void setHeaderFields(const Keys& k, const Napi::Object& o, const Headers& h) {
  k.set(o, Key::subject, h.subject);
  k.set(o, Key::from, addresses(k, h.from));
  k.set(o, Key::sender, addresses(k, h.sender));
  k.set(o, Key::to, addresses(k, h.to));
  k.set(o, Key::cc, addresses(k, h.cc));
  k.set(o, Key::bcc, addresses(k, h.bcc));
  k.set(o, Key::replyTo, addresses(k, h.replyTo));
  k.set(o, Key::date, dateOrNull(k.env(), h.date));
  k.set(o, Key::messageId, stringOrNull(k.env(), h.messageId));
  k.set(o, Key::inReplyTo, stringOrNull(k.env(), h.inReplyTo));
}

const char* eventName(imap::Event::Type t);
// Every event but newMessage (below).
Napi::Object toJs(const Keys& k, const imap::Event& e);
// newMessage comes by the thousand (a catch-up after a reconnect, an initial
// sync), so lib/ builds its object from positional fields: V8 then allocates
// it with its final shape, where ~30 property sets through the API cost one
// runtime call and one shape transition each (about 40 % of the JS thread in
// the envelope-fetch profile). `make` is lib/events.js's newMessage().
Napi::Value newMessageToJs(const Keys& k, const Napi::Function& make, const imap::Event& e);
Napi::Object toJs(Napi::Env env, const imap::FolderStatus& s);
Napi::Object toJs(Napi::Env env, const imap::PoolStats& s);
Napi::Object toJs(Napi::Env env, const imap::SyncStats& s);
bool toStringList(const Napi::Value& v, std::vector<std::string>& out);

}  // namespace binding
