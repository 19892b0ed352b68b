#include "imap_value.h"

namespace binding {

Napi::Value valueToJs(Napi::Env env, const imap::Value& v) {
  switch (v.kind) {
    case imap::Value::Kind::Atom:
    case imap::Value::Kind::String: return Napi::String::New(env, v.str);
    case imap::Value::Kind::Number: return Napi::Number::New(env, static_cast<double>(v.num));
    case imap::Value::Kind::Nil: return env.Null();
    case imap::Value::Kind::List: {
      // The parser bounds the nesting, so this recursion is bounded too.
      Napi::Array arr = Napi::Array::New(env, v.list.size());
      for (size_t i = 0; i < v.list.size(); ++i) arr.Set(static_cast<uint32_t>(i), valueToJs(env, v.list[i]));
      return arr;
    }
  }
  return env.Null();
}

}  // namespace binding
