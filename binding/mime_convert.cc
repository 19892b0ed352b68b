#include "mime_convert.h"

#include <string>
#include <utility>

#include "mime/mime.h"
#include "convert.h"

namespace binding {

namespace {

// Attachment bytes move into the Buffer without a copy on the JS thread
// (where external buffers are allowed).
Napi::Value takeBuffer(Napi::Env env, std::string&& bytes) {
  if (bytes.empty()) return Napi::Buffer<char>::New(env, 0);
  auto* owned = new std::string(std::move(bytes));
  return Napi::Buffer<char>::NewOrCopy(
      env, owned->data(), owned->size(), [](Napi::Env, char*, std::string* s) { delete s; }, owned);
}


// Parses the caller's bytes in place on the threadpool: copying a 20 MB
// message on the JS thread would cost it more than the whole parse stalls it
// otherwise. Like fs.write(), this relies on the caller leaving the buffer
// alone until the promise settles; the reference keeps it alive.
class ParseWorker : public Napi::AsyncWorker {
 public:
  ParseWorker(Napi::Env env, const Napi::Uint8Array& input, const imap::MimeLimits& limits)
      : Napi::AsyncWorker(env, "imap-push:parseMessage"),
        deferred_(Napi::Promise::Deferred::New(env)),
        input_(Napi::Persistent(input)),
        data_(reinterpret_cast<const char*>(input.Data())),
        size_(input.ByteLength()),
        limits_(limits) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      message_ = imap::parseMime(data_, size_, limits_);
    } catch (const std::exception& e) {  // only allocation failures get here
      SetError(std::string("parseMessage: ") + e.what());
    }
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    deferred_.Resolve(toJs(Keys(Env()), message_));
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Uint8Array> input_;
  const char* data_;
  size_t size_;
  imap::MimeLimits limits_;
  imap::ParsedMessage message_;
};

}  // namespace

Napi::Object toJs(const Keys& k, imap::ParsedMessage& m) {
  Napi::Env env = k.env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Array headers = Napi::Array::New(env, m.headers.size());
  for (size_t i = 0; i < m.headers.size(); ++i) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, m.headers[i].first);
    pair.Set(1u, m.headers[i].second);
    headers.Set(static_cast<uint32_t>(i), pair);
  }
  k.set(o, Key::headers, headers);
  setHeaderFields(k, o, m);
  k.set(o, Key::references, strings(env, m.references));
  k.set(o, Key::text, m.hasText ? Napi::Value(Napi::String::New(env, m.text)) : env.Null());
  k.set(o, Key::html, m.hasHtml ? Napi::Value(Napi::String::New(env, m.html)) : env.Null());
  Napi::Array attachments = Napi::Array::New(env, m.attachments.size());
  for (size_t i = 0; i < m.attachments.size(); ++i) {
    imap::MimeAttachment& a = m.attachments[i];
    Napi::Object js = Napi::Object::New(env);
    k.set(js, Key::filename, stringOrNull(env, a.filename));
    k.set(js, Key::contentType, a.contentType);
    k.set(js, Key::disposition, a.disposition);
    k.set(js, Key::contentId, stringOrNull(env, a.contentId));
    k.set(js, Key::size, static_cast<double>(a.size()));
    k.set(js, Key::content, takeBuffer(env, std::move(a.content)));
    attachments.Set(static_cast<uint32_t>(i), js);
  }
  k.set(o, Key::attachments, attachments);
  k.set(o, Key::size, static_cast<double>(m.size));
  k.set(o, Key::truncated, m.truncated);
  return o;
}

Napi::Value ParseMessage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "parseMessage: input must be a Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  imap::MimeLimits limits;
  if (info[1].IsNumber()) {
    double max = info[1].As<Napi::Number>().DoubleValue();
    if (max >= 1) limits.maxBytes = static_cast<size_t>(max);
  }
  auto* worker = new ParseWorker(env, info[0].As<Napi::Uint8Array>(), limits);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace binding
