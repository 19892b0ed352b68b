// Property names of the objects built per event and per parsed message,
// created once per environment. Object::Set("name", …) makes V8 hash the C
// string and look it up in its string table on every call; those lookups
// were about a tenth of the JS thread's time in the envelope-fetch benchmark.
#pragma once

#include <napi.h>

#include <array>
#include <cstddef>

namespace binding {

#define BINDING_KEYS(X)                                                                                     \
  X(accountId) X(folder) X(uid) X(seq) X(flags) X(size) X(modseq) X(preview) X(message) X(requestId)       \
  X(errorCode) X(errorMessage) X(subject) X(from) X(sender) X(to) X(cc) X(bcc) X(replyTo) X(date)          \
  X(messageId) X(inReplyTo) X(name) X(address) X(headers) X(references) X(text) X(html) X(attachments)     \
  X(filename) X(contentType) X(disposition) X(contentId) X(content) X(truncated) X(pushLatencyMs)

enum class Key : unsigned char {
#define BINDING_KEY_ENUM(n) n,
  BINDING_KEYS(BINDING_KEY_ENUM)
#undef BINDING_KEY_ENUM
  Count
};
constexpr size_t kKeyCount = static_cast<size_t>(Key::Count);

// Owned by the addon's per-environment instance data (addon.cc). One array
// holds the names: Node-API 8 can reference objects only, not strings.
class KeyStore {
 public:
  explicit KeyStore(Napi::Env env);

 private:
  friend class Keys;
  Napi::Reference<Napi::Array> names_;
};

const KeyStore& keyStore(Napi::Env env);  // defined in addon.cc

// The names as handles of the current HandleScope: built once per batch of
// events, then used for every property set in it.
class Keys {
 public:
  explicit Keys(Napi::Env env);

  Napi::Env env() const { return env_; }

  // A failed set leaves a pending JS exception; the caller's return to JS
  // surfaces it.
  template <class T>
  void set(const Napi::Object& o, Key k, const T& value) const {
    napi_set_property(env_, o, names_[static_cast<size_t>(k)], Napi::Value::From(env_, value));
  }

 private:
  Napi::Env env_;
  std::array<napi_value, kKeyCount> names_{};
};

}  // namespace binding
