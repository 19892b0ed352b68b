#include "keys.h"

namespace binding {

namespace {
constexpr const char* kNames[] = {
#define BINDING_KEY_NAME(n) #n,
    BINDING_KEYS(BINDING_KEY_NAME)
#undef BINDING_KEY_NAME
};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == kKeyCount);
}  // namespace

KeyStore::KeyStore(Napi::Env env) {
  Napi::Array names = Napi::Array::New(env, kKeyCount);
  for (size_t i = 0; i < kKeyCount; ++i) names.Set(static_cast<uint32_t>(i), Napi::String::New(env, kNames[i]));
  names_ = Napi::Persistent(names);
}

Keys::Keys(Napi::Env env) : env_(env) {
  Napi::Array names = keyStore(env).names_.Value();
  for (size_t i = 0; i < kKeyCount; ++i) napi_get_element(env, names, static_cast<uint32_t>(i), &names_[i]);
}

}  // namespace binding
