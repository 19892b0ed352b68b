// The addon: one NativeEngine class per environment (main thread or worker).
// It only converts; the engine lives in src/.
#include <napi.h>

#include <memory>
#include <utility>
#include <vector>

#include "convert.h"
#include "imap_value.h"
#include "requests.h"
#include "engine/api.h"
#include "mime_convert.h"

namespace binding {
Napi::Value DecodeFetch(const Napi::CallbackInfo& info);  // decode_fetch.cc
}

namespace {

constexpr char kDeleteUsage[] = "deleteMessages(requestId, accountId, folder, uids)";
constexpr char kQuotaUsage[] = "getQuota(requestId, accountId, folder)";
constexpr char kStatusUsage[] = "folderStatus(requestId, accountId, folder)";

class NativeEngine;
using Batch = imap::EventBatch;
void callJs(Napi::Env env, Napi::Function fn, NativeEngine* self, Batch* batch);
using Tsfn = Napi::TypedThreadSafeFunction<NativeEngine, Batch, callJs>;

class NativeEngine : public Napi::ObjectWrap<NativeEngine> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeEngine",
                       {
                           InstanceMethod<&NativeEngine::AddAccount>("addAccount"),
                           InstanceMethod<&NativeEngine::RemoveAccount>("removeAccount"),
                           InstanceMethod<&NativeEngine::Close>("close"),
                           InstanceMethod<&NativeEngine::Status>("status"),
                           InstanceMethod<&NativeEngine::ProvideToken>("provideToken"),
                           InstanceMethod<&NativeEngine::Sync>("sync"),
                           InstanceMethod<&NativeEngine::ListFolders>("listFolders"),
                           InstanceMethod<&NativeEngine::FetchMessage>("fetchMessage"),
                           InstanceMethod<&NativeEngine::Request<imap::StoreRequest, binding::storeArgs, &imap::EngineApi::storeFlags>>("storeFlags"),
                           InstanceMethod<&NativeEngine::StringsRequest<kDeleteUsage, 2, &imap::EngineApi::deleteMessages>>("deleteMessages"),
                           InstanceMethod<&NativeEngine::Request<imap::CopyRequest, binding::copyArgs, &imap::EngineApi::copyMessages>>("copyMessages"),
                           InstanceMethod<&NativeEngine::Request<imap::SearchRequest, binding::searchArgs, &imap::EngineApi::searchMessages>>("searchMessages"),
                           InstanceMethod<&NativeEngine::Request<imap::AppendRequest, binding::appendArgs, &imap::EngineApi::appendMessage>>("appendMessage"),
                           InstanceMethod<&NativeEngine::Request<imap::FolderRequest, binding::folderArgs, &imap::EngineApi::folderCommand>>("folderCommand"),
                           InstanceMethod<&NativeEngine::StringsRequest<kQuotaUsage, 1, &imap::EngineApi::getQuota>>("getQuota"),
                           InstanceMethod<&NativeEngine::Request<imap::ListRequest, binding::listArgs, &imap::EngineApi::listMessages>>("listMessages"),
                           InstanceMethod<&NativeEngine::Request<imap::PartRequest, binding::partArgs, &imap::EngineApi::downloadPart>>("downloadPart"),
                           InstanceMethod<&NativeEngine::StringsRequest<kStatusUsage, 1, &imap::EngineApi::folderStatus>>("folderStatus"),
                           InstanceMethod<&NativeEngine::PoolStats>("poolStats"),
                           InstanceMethod<&NativeEngine::SyncStats>("syncStats"),
                           InstanceMethod<&NativeEngine::Ref>("ref"),
                           InstanceMethod<&NativeEngine::Unref>("unref"),
                           InstanceMethod<&NativeEngine::HoldAcks>("_holdAcknowledgements"),
                           InstanceMethod<&NativeEngine::LoopHandles>("_loopHandles"),
                       });
  }

  // Every early return leaves a JS exception pending; node-addon-api then
  // destroys the half-built object at once, so the destructor must release
  // only what was built (a null TSFN aborts in napi_release_threadsafe_function).
  explicit NativeEngine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeEngine>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "NativeEngine needs an event callback and a newMessage builder").ThrowAsJavaScriptException();
      return;
    }
    if (!info[1].IsUndefined() && !info[1].IsObject()) {
      Napi::TypeError::New(env, "NativeEngine config must be an object").ThrowAsJavaScriptException();
      return;
    }
    imap::EngineConfig config;
    if (info[1].IsObject() && !binding::toEngineConfig(info[1].As<Napi::Object>(), config)) return;
    if (env.IsExceptionPending()) return;  // a throwing getter in the config
    makeNewMessage_ = Napi::Persistent(info[2].As<Napi::Function>());
    tsfn_ = Tsfn::New(env, info[0].As<Napi::Function>(), "imap-push events", 0, 1, this);
    if (env.IsExceptionPending()) return;
    tsfnLive_ = true;
    engine_ = imap::makeEngine(config, [this](Batch&& batch) {
      auto* data = new Batch(std::move(batch));
      if (tsfn_.NonBlockingCall(data) != napi_ok) delete data;
    });
    napi_add_env_cleanup_hook(env, CleanupHook, this);
    hookAdded_ = true;
    if (!engine_->startError().empty()) {
      std::string message = engine_->startError();
      Shutdown();
      Napi::Error err = Napi::Error::New(env, message);
      err.Set("code", "STATE_FILE_FAILED");
      err.ThrowAsJavaScriptException();
    }
  }

  Napi::Function MakeNewMessage() const { return makeNewMessage_.Value(); }

  void Delivered(uint64_t seq) {
    if (!engine_) return;
    if (holdAcks_) heldAcks_.push_back(seq);
    else engine_->delivered(seq);
  }

  // A raw engine can be collected with batches still queued (closed, then
  // dropped before its Closed batch came): aborting rather than releasing
  // hands those to callJs with no env, which frees them without reading this
  // object after it is gone.
  ~NativeEngine() override {
    if (engine_) engine_->shutdownNow();
    if (tsfnLive_) {
      tsfnLive_ = false;
      tsfn_.Abort();
    }
    if (hookAdded_) napi_remove_env_cleanup_hook(Env(), CleanupHook, this);
  }

  // The Closed batch comes after the engine's loop ended and its state was
  // saved: the thread has nothing left to do, so joining it is immediate.
  // Returns whether uv_loop_close() succeeded, read after the join.
  bool OnClosed() {
    if (engine_) engine_->join();
    ReleaseTsfn();
    return engine_ && engine_->loopClosedCleanly();
  }

 private:
  // Runs when the environment (process or worker) tears down, and from the
  // destructor. Safe to run twice.
  static void CleanupHook(void* arg) {
    auto* self = static_cast<NativeEngine*>(arg);
    self->hookAdded_ = false;
    self->Shutdown();
  }

  void Shutdown() {
    if (engine_) engine_->shutdownNow();
    ReleaseTsfn();
  }

  void ReleaseTsfn() {
    if (tsfnLive_) {
      tsfnLive_ = false;
      tsfn_.Release();
    }
  }

  // Once the event channel is released (closed, shut down) no answer could
  // reach JS, and the engine drops whatever it is sent.
  bool running() const { return engine_ && tsfnLive_; }

  // The engine for a request, or nullptr with a JS Error pending: a request
  // the engine would drop silently would leave its caller waiting forever.
  imap::EngineApi* live(Napi::Env env) {
    if (running()) return engine_.get();
    Napi::Error err = Napi::Error::New(env, "engine is closed");
    err.Set("code", "CLOSED");
    err.ThrowAsJavaScriptException();
    return nullptr;
  }

  Napi::Value AddAccount(const Napi::CallbackInfo& info) {
    if (!info[0].IsObject()) {
      Napi::TypeError::New(info.Env(), "account must be an object").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    imap::AccountConfig cfg;
    if (!binding::toAccountConfig(info[0].As<Napi::Object>(), cfg)) return info.Env().Undefined();
    if (imap::EngineApi* engine = live(info.Env())) engine->addAccount(std::move(cfg));
    return info.Env().Undefined();
  }

  Napi::Value RemoveAccount(const Napi::CallbackInfo& info) {
    if (!info[0].IsString()) {
      Napi::TypeError::New(info.Env(), "accountId must be a string").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    if (imap::EngineApi* engine = live(info.Env())) engine->removeAccount(info[0].As<Napi::String>().Utf8Value());
    return info.Env().Undefined();
  }

  // provideToken(accountId, token | null, expiresAtMs, error | null)
  Napi::Value ProvideToken(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) {
      Napi::TypeError::New(env, "accountId must be a string").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::string token = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : std::string();
    double expiresAt = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0;
    std::string error = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : std::string();
    // An answer racing close() has nobody left to serve: dropped, not an error.
    if (!running()) return env.Undefined();
    engine_->provideToken(info[0].As<Napi::String>().Utf8Value(), std::move(token), expiresAt, std::move(error));
    return env.Undefined();
  }

  // sync(requestId, accountId, folders[])
  Napi::Value Sync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsString()) {
      Napi::TypeError::New(env, "sync(requestId, accountId, folders)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::vector<std::string> folders;
    if (!binding::toStringList(info[2], folders)) return env.Undefined();
    if (imap::EngineApi* engine = live(env))
      engine->sync(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()), info[1].As<Napi::String>().Utf8Value(),
                   std::move(folders));
    return env.Undefined();
  }

  // listFolders(requestId, accountId, refresh)
  Napi::Value ListFolders(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsString()) {
      Napi::TypeError::New(env, "listFolders(requestId, accountId, refresh)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (imap::EngineApi* engine = live(env))
      engine->listFolders(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()),
                          info[1].As<Napi::String>().Utf8Value(), info[2].ToBoolean().Value());
    return env.Undefined();
  }

  // fetchMessage(requestId, accountId, folder, uid, maxBytes)
  Napi::Value FetchMessage(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsString() || !info[2].IsString() || !info[3].IsNumber() || !info[4].IsNumber()) {
      Napi::TypeError::New(env, "fetchMessage(requestId, accountId, folder, uid, maxBytes)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (imap::EngineApi* engine = live(env))
      engine->fetchMessage(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()),
                           info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::String>().Utf8Value(),
                           info[3].As<Napi::Number>().Uint32Value(),
                           static_cast<uint64_t>(info[4].As<Napi::Number>().Int64Value()));
    return env.Undefined();
  }

  // requestId, accountId, then what Parse reads into the engine's request.
  template <typename Req, const char* (*Parse)(const Napi::CallbackInfo&, Req&),
            void (imap::EngineApi::*Call)(uint64_t, std::string, Req)>
  Napi::Value Request(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Req req;
    const char* usage = info[0].IsNumber() && info[1].IsString() ? Parse(info, req) : "(requestId, accountId, ...)";
    if (usage) {
      Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (imap::EngineApi* engine = live(env))
      (engine->*Call)(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()), info[1].As<Napi::String>().Utf8Value(),
                      std::move(req));
    return env.Undefined();
  }

  // requestId, accountId, then the given number of plain string arguments
  // (folder, uids): actions whose request is no more than that.
  template <const char* Usage, size_t Strings, auto Call>
  Napi::Value StringsRequest(const Napi::CallbackInfo& info) {
    return StringsRequest<Usage, Call>(info, std::make_index_sequence<Strings>{});
  }
  template <const char* Usage, auto Call, size_t... I>
  Napi::Value StringsRequest(const Napi::CallbackInfo& info, std::index_sequence<I...>) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsString() || !(info[2 + I].IsString() && ...)) {
      Napi::TypeError::New(env, Usage).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (imap::EngineApi* engine = live(env))
      (engine->*Call)(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()), info[1].As<Napi::String>().Utf8Value(),
                      info[2 + I].As<Napi::String>().Utf8Value()...);
    return env.Undefined();
  }

  Napi::Value PoolStats(const Napi::CallbackInfo& info) {
    std::string id = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
    return binding::toJs(info.Env(), engine_ ? engine_->poolStats(id) : imap::PoolStats{});
  }

  Napi::Value SyncStats(const Napi::CallbackInfo& info) {
    return binding::toJs(info.Env(), engine_ ? engine_->syncStats() : imap::SyncStats{});
  }

  // Idempotent: closing a closed engine does nothing, as in lib/.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (running()) engine_->close();
    return info.Env().Undefined();
  }

  Napi::Value Status(const Napi::CallbackInfo& info) {
    std::string id = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
    auto list = engine_ ? engine_->status(id) : std::vector<imap::FolderStatus>{};
    Napi::Array arr = Napi::Array::New(info.Env(), list.size());
    for (size_t i = 0; i < list.size(); ++i) arr.Set(static_cast<uint32_t>(i), binding::toJs(info.Env(), list[i]));
    return arr;
  }

  // An engine with nothing to watch need not keep the process alive.
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (tsfnLive_) tsfn_.Ref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (tsfnLive_) tsfn_.Unref(info.Env());
    return info.Env().Undefined();
  }

  // Test hook: while true, batches reach JS but are not acknowledged, as
  // if the process could die before it got to it. false releases them.
  Napi::Value HoldAcks(const Napi::CallbackInfo& info) {
    holdAcks_ = info[0].ToBoolean().Value();
    if (!holdAcks_ && engine_) {
      for (uint64_t seq : heldAcks_) engine_->delivered(seq);
      heldAcks_.clear();
    }
    return info.Env().Undefined();
  }

  // Test hook for the leak checks: the engine loop's open handles, -1 once closed.
  Napi::Value LoopHandles(const Napi::CallbackInfo& info) {
    long n = engine_ ? engine_->loopHandles() : -1;
    return Napi::Number::New(info.Env(), static_cast<double>(n));
  }

  Tsfn tsfn_;
  Napi::FunctionReference makeNewMessage_;
  bool holdAcks_ = false;
  std::vector<uint64_t> heldAcks_;
  bool tsfnLive_ = false;  // Tsfn::New succeeded and Release() has not run
  bool hookAdded_ = false;
  std::unique_ptr<imap::EngineApi> engine_;
};

void callJs(Napi::Env env, Napi::Function fn, NativeEngine* self, Batch* batch) {
  std::unique_ptr<Batch> owned(batch);  // freed even when env is gone
  if (!env || !fn) return;
  Napi::HandleScope scope(env);
  binding::Keys keys(env);
  Napi::Function makeNewMessage = self->MakeNewMessage();
  Napi::Array args = Napi::Array::New(env, owned->events.size() * 2);
  Napi::Object closed;
  uint32_t i = 0;
  for (const auto& e : owned->events) {
    args.Set(i++, binding::eventName(e.type));
    // A listed message has the newMessage shape, and its request's id.
    bool message = e.type == imap::Event::Type::NewMessage || e.type == imap::Event::Type::MessageListed;
    Napi::Value payload = message ? binding::newMessageToJs(keys, makeNewMessage, e) : binding::toJs(keys, e);
    if (e.type == imap::Event::Type::MessageListed && payload.IsObject()) {
      Napi::Object listed = payload.As<Napi::Object>();
      keys.set(listed, binding::Key::requestId, static_cast<double>(e.requestId));
      if (e.bodyStructure) listed.Set("bodyStructure", binding::valueToJs(env, *e.bodyStructure));
      if (!e.headers.empty()) listed.Set("headers", Napi::Buffer<char>::Copy(env, e.headers.data(), e.headers.size()));
    }
    args.Set(i++, payload);
    if (e.type == imap::Event::Type::Closed) closed = payload.As<Napi::Object>();
  }
  // Tests assert it at every close(): a handle left open is a leak.
  if (!closed.IsEmpty()) closed.Set("loopClosedCleanly", self->OnClosed());
  Napi::Value result = fn.Call({args});
  // A stopping environment (a worker's process.exit(), an uncaught exception,
  // terminate()) runs no JS: the call fails with nothing pending. Those events
  // never reached a listener, so they stay unacknowledged and their state is
  // not saved as seen.
  if (result.IsEmpty() && !env.IsExceptionPending()) return;
  // Handed to JS (a throwing listener does not undo that): the state behind
  // these events may now be persisted.
  if (closed.IsEmpty()) self->Delivered(owned->seq);
}

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) : keys_(env) {
    DefineAddon(exports, {InstanceValue("NativeEngine", NativeEngine::Define(env), napi_enumerable),
                          InstanceValue("parseMessage", Napi::Function::New<binding::ParseMessage>(env, "parseMessage"),
                                        napi_enumerable),
                          InstanceValue("_decodeFetch", Napi::Function::New<binding::DecodeFetch>(env, "_decodeFetch"))});
  }

  const binding::KeyStore& keys() const { return keys_; }

 private:
  binding::KeyStore keys_;
};

}  // namespace

const binding::KeyStore& binding::keyStore(Napi::Env env) { return env.GetInstanceData<Addon>()->keys(); }

NODE_API_ADDON(Addon)
