// _decodeFetch(bytes, newMessage): the engine's own response parser and FETCH
// decoder on a buffer of server responses, each FETCH answered as the
// newMessage payload JS would see. It exists for the differential test
// against ImapFlow's parser (test/differential.test.js); the engine never
// calls it.
#include <napi.h>

#include <vector>

#include "convert.h"
#include "core/parser.h"
#include "imap/fetch.h"

namespace binding {

Napi::Value DecodeFetch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "_decodeFetch(bytes: Uint8Array, newMessage: Function)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto bytes = info[0].As<Napi::Uint8Array>();
  imap::Parser parser;
  std::vector<imap::Response> responses;
  bool ok = parser.feed(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength(), responses);
  Keys keys(env);
  Napi::Function make = info[1].As<Napi::Function>();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (const auto& r : responses) {
    if (r.keyword != "FETCH" || !r.number || r.args.empty()) continue;
    imap::FetchItems items = imap::parseFetchItems(r.args[0]);
    if (items.badUid) continue;
    imap::Event e;
    e.type = imap::Event::Type::NewMessage;
    imap::fillNewMessage(e, static_cast<uint32_t>(*r.number), items, 0);
    Napi::Value v = newMessageToJs(keys, make, e);
    if (env.IsExceptionPending()) return env.Undefined();
    out.Set(n++, v);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("messages", out);
  result.Set("error", ok ? env.Null() : Napi::Value(Napi::String::New(env, parser.error())));
  return result;
}

}  // namespace binding
