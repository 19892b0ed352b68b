#include "convert.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

#include "mime_convert.h"

namespace binding {

namespace {

bool getString(const Napi::Object& o, const char* key, std::string& out, bool required = false) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (!required) return true;
  } else if (v.IsString()) {
    out = v.As<Napi::String>().Utf8Value();
    return true;
  }
  Napi::TypeError::New(o.Env(), std::string("account option '") + key + "' must be a string")
      .ThrowAsJavaScriptException();
  return false;
}

bool getNumber(const Napi::Object& o, const char* key, uint64_t& out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  // Also NaN, Infinity and 1e300: casting them to uint64_t is undefined.
  constexpr double kMaxSafe = 9007199254740991.0;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d <= kMaxSafe)) {
    Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be a number from 0 to 2^53")
        .ThrowAsJavaScriptException();
    return false;
  }
  out = static_cast<uint64_t>(d);
  return true;
}

bool getDouble(const Napi::Object& o, const char* key, double& out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  if (!v.IsNumber()) {
    Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be a number").ThrowAsJavaScriptException();
    return false;
  }
  out = v.As<Napi::Number>().DoubleValue();
  return true;
}

bool getBool(const Napi::Object& o, const char* key, bool& out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  out = v.ToBoolean().Value();
  return true;
}

Napi::Object subObject(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsObject() ? v.As<Napi::Object>() : Napi::Object::New(o.Env());
}

Napi::Value numberOrNull(Napi::Env env, uint32_t n) {
  if (n == 0) return env.Null();
  return Napi::Number::New(env, n);
}

}  // namespace

Napi::Value dateOrNull(Napi::Env env, double ms) {
  if (std::isnan(ms)) return env.Null();
  return Napi::Date::New(env, ms);
}

Napi::Array addresses(const Keys& k, const std::vector<imap::Address>& list) {
  Napi::Array arr = Napi::Array::New(k.env(), list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    Napi::Object a = Napi::Object::New(k.env());
    k.set(a, Key::name, list[i].name);
    k.set(a, Key::address, list[i].address);
    arr.Set(static_cast<uint32_t>(i), a);
  }
  return arr;
}

Napi::Array strings(Napi::Env env, const std::vector<std::string>& list) {
  Napi::Array arr = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); ++i) arr.Set(static_cast<uint32_t>(i), list[i]);
  return arr;
}

namespace {
// [name, address, name, address, …]: lib/ makes the objects.
Napi::Array flatAddresses(Napi::Env env, const std::vector<imap::Address>& list) {
  Napi::Array arr = Napi::Array::New(env, list.size() * 2);
  uint32_t i = 0;
  for (const auto& a : list) {
    arr.Set(i++, a.name);
    arr.Set(i++, a.address);
  }
  return arr;
}
}  // namespace

Napi::Value newMessageToJs(const Keys& k, const Napi::Function& make, const imap::Event& e) {
  Napi::Env env = k.env();
  const imap::Envelope& v = e.envelope;
  Napi::Value o = make.Call({
      Napi::String::New(env, e.accountId), Napi::String::New(env, e.folder), Napi::Number::New(env, e.uid),
      Napi::Number::New(env, e.uidValidity), Napi::Number::New(env, e.seq), strings(env, e.flags),
      Napi::Number::New(env, static_cast<double>(e.size)), dateOrNull(env, e.internalDate),
      e.modseq ? Napi::Value(Napi::Number::New(env, static_cast<double>(e.modseq))) : env.Undefined(),
      Napi::String::New(env, v.subject), flatAddresses(env, v.from), flatAddresses(env, v.sender),
      flatAddresses(env, v.to), flatAddresses(env, v.cc), flatAddresses(env, v.bcc), flatAddresses(env, v.replyTo),
      dateOrNull(env, v.date), stringOrNull(env, v.messageId), stringOrNull(env, v.inReplyTo),
  });
  if (!o.IsObject()) return o;  // `make` threw: the exception is pending
  Napi::Object obj = o.As<Napi::Object>();
  if (e.hasPreview) k.set(obj, Key::preview, e.preview);
  if (e.message) k.set(obj, Key::message, toJs(k, *e.message));
  // Read here, on the JS thread just before the event is emitted, so it covers
  // the envelope fetch, any enrichment, the batch and the thread hop.
  if (e.existsSeenAt) {
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - *e.existsSeenAt).count();
    k.set(obj, Key::pushLatencyMs, Napi::Number::New(env, ms));
  }
  return obj;
}

Napi::Value stringOrNull(Napi::Env env, const std::string& s) {
  if (s.empty()) return env.Null();
  return Napi::String::New(env, s);
}

bool toAccountConfig(const Napi::Object& o, imap::AccountConfig& c) {
  std::string tls = "implicit";
  uint64_t port = 0;
  if (!getString(o, "id", c.id, true) || !getString(o, "host", c.host, true) || !getNumber(o, "port", port) ||
      !getString(o, "tls", tls) || !getString(o, "user", c.user) || !getString(o, "pass", c.pass) ||
      !getString(o, "accessToken", c.accessToken) || !getBool(o, "tokenProvider", c.tokenProvider) ||
      !getBool(o, "fetchBodies", c.fetchBodies) || !getNumber(o, "maxBodyBytes", c.maxBodyBytes) ||
      !getBool(o, "allowInsecureAuth", c.allowInsecureAuth))
    return false;
  c.port = static_cast<uint16_t>(port);
  uint64_t preview = 0;
  if (!getNumber(o, "previewChars", preview)) return false;
  c.previewChars = static_cast<uint32_t>(preview);
  c.tls = tls == "none" ? imap::TlsMode::None : tls == "starttls" ? imap::TlsMode::StartTls : imap::TlsMode::Implicit;

  Napi::Object t = subObject(o, "tlsOptions");
  if (!getString(t, "ca", c.tlsOptions.caPem) || !getString(t, "servername", c.tlsOptions.servername) ||
      !getBool(t, "rejectUnauthorized", c.tlsOptions.rejectUnauthorized))
    return false;

  Napi::Value folders = o.Get("folders");
  if (folders.IsArray()) {
    Napi::Array arr = folders.As<Napi::Array>();
    c.folders.clear();
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value f = arr.Get(i);
      if (!f.IsString()) {
        Napi::TypeError::New(o.Env(), "option 'folders' must be an array of strings").ThrowAsJavaScriptException();
        return false;
      }
      c.folders.push_back(f.As<Napi::String>().Utf8Value());
    }
  }

  Napi::Object idle = subObject(o, "idle");
  Napi::Object rc = subObject(o, "reconnect");
  Napi::Object to = subObject(o, "timeouts");
  Napi::Object ka = subObject(o, "keepalive");
  uint64_t kaCount = c.keepalive.count;
  bool kaOk = getNumber(ka, "idleMs", c.keepalive.idleMs) && getNumber(ka, "intervalMs", c.keepalive.intervalMs) &&
              getNumber(ka, "count", kaCount);
  c.keepalive.count = static_cast<uint32_t>(std::min<uint64_t>(kaCount, UINT32_MAX));
  return kaOk && getNumber(idle, "refreshMs", c.idle.refreshMs) && getNumber(idle, "pollMs", c.idle.pollMs) &&
         getNumber(idle, "doneTimeoutMs", c.idle.doneTimeoutMs) && getNumber(idle, "livenessMs", c.idle.livenessMs) &&
         getNumber(rc, "initialDelayMs", c.reconnect.initialDelayMs) && getDouble(rc, "factor", c.reconnect.factor) &&
         getNumber(rc, "maxDelayMs", c.reconnect.maxDelayMs) && getDouble(rc, "jitter", c.reconnect.jitter) &&
         getNumber(rc, "authFailureDelayMs", c.authFailureDelayMs) &&
         getBool(rc, "stopOnAuthFailure", c.stopOnAuthFailure) && getNumber(to, "connectMs", c.timeouts.connectMs) &&
         getNumber(to, "commandMs", c.timeouts.commandMs) && getNumber(to, "logoutMs", c.timeouts.logoutMs);
}

bool toEngineConfig(const Napi::Object& o, imap::EngineConfig& c) {
  Napi::Object auth = subObject(o, "auth");
  Napi::Object pool = subObject(o, "pool");
  Napi::Object sync = subObject(o, "sync");
  Napi::Object folders = subObject(o, "folders");
  uint64_t maxPer = c.pool.maxPerAccount, maxTotal = c.pool.maxTotal, initialLast = 0, window = c.sync.flagWindow,
           maxConcurrent = c.syncMaxConcurrent, maxQueued = c.maxQueuedEvents;
  bool ok = getNumber(auth, "refreshBeforeMs", c.tokenRefreshBeforeMs) && getNumber(pool, "maxPerAccount", maxPer) &&
            getNumber(pool, "maxTotal", maxTotal) && getNumber(pool, "healthCheckMs", c.pool.healthCheckMs) &&
            getNumber(pool, "idleTimeoutMs", c.pool.idleTimeoutMs) && getNumber(sync, "debounceMs", c.syncDebounceMs) &&
            getNumber(sync, "maxConcurrent", maxConcurrent) && getNumber(sync, "flagWindow", window) && getNumber(folders, "cacheTtlMs", c.folderCacheTtlMs) &&
            getString(o, "stateFile", c.stateFile) && getNumber(o, "maxQueuedEvents", maxQueued);
  Napi::Value initial = sync.Get("initial");
  if (ok && initial.IsObject()) ok = getNumber(initial.As<Napi::Object>(), "last", initialLast);
  c.pool.maxPerAccount = static_cast<size_t>(maxPer);
  c.pool.maxTotal = static_cast<size_t>(maxTotal);
  c.sync.initialLast = static_cast<uint32_t>(initialLast);
  c.sync.flagWindow = static_cast<uint32_t>(window);
  c.syncMaxConcurrent = static_cast<size_t>(maxConcurrent);
  c.maxQueuedEvents = static_cast<size_t>(maxQueued);
  return ok;
}

bool toStringList(const Napi::Value& v, std::vector<std::string>& out) {
  if (v.IsUndefined() || v.IsNull()) return true;
  if (!v.IsArray()) {
    Napi::TypeError::New(v.Env(), "expected an array of strings").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value item = arr.Get(i);
    if (!item.IsString()) {
      Napi::TypeError::New(v.Env(), "expected an array of strings").ThrowAsJavaScriptException();
      return false;
    }
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return true;
}

Napi::Object toJs(Napi::Env env, const imap::PoolStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("open", static_cast<double>(s.open));
  o.Set("busy", static_cast<double>(s.busy));
  o.Set("idle", static_cast<double>(s.idle));
  o.Set("created", static_cast<double>(s.created));
  o.Set("reused", static_cast<double>(s.reused));
  o.Set("healthChecks", static_cast<double>(s.healthChecks));
  o.Set("failures", static_cast<double>(s.failures));
  o.Set("waitTimeMs", s.waitTimeMs);
  return o;
}

Napi::Object toJs(Napi::Env env, const imap::SyncStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("active", static_cast<double>(s.active));
  o.Set("pending", static_cast<double>(s.pending));
  o.Set("completed", static_cast<double>(s.completed));
  return o;
}

namespace {
// folderChanged and folderStatus() share this shape; no HIGHESTMODSEQ (a
// server without CONDSTORE) is null, as everywhere else.
void setCounts(Napi::Env env, Napi::Object& o, const imap::FolderCounts& c) {
  o.Set("exists", c.exists);
  o.Set("unseen", c.unseen);
  o.Set("uidNext", c.uidNext);
  o.Set("highestModseq", c.highestModseq ? Napi::Value(Napi::Number::New(env, static_cast<double>(c.highestModseq))) : env.Null());
}
}  // namespace

const char* eventName(imap::Event::Type t) {
  using T = imap::Event::Type;
  switch (t) {
    case T::NewMessage: return "newMessage";
    case T::MessageDeleted: return "messageDeleted";
    case T::FlagsChanged: return "flagsChanged";
    case T::ConnectionStatus: return "connectionStatus";
    case T::IdleRefreshed: return "idleRefreshed";
    case T::FolderReset: return "folderReset";
    case T::AccountReady: return "accountReady";
    case T::AccountFailed: return "accountFailed";
    case T::AccountRemoved: return "accountRemoved";
    case T::TokenRequest: return "tokenRequest";
    case T::SyncStarted: return "syncStarted";
    case T::SyncProgress: return "syncProgress";
    case T::SyncCompleted: return "syncCompleted";
    case T::FolderList: return "folderList";
    case T::MessageFetched: return "messageFetched";
    case T::ActionDone: return "actionDone";
    case T::MessageListed: return "messageListed";
    case T::FolderChanged: return "folderChanged";
    case T::Closed: return "closed";
  }
  return "unknown";
}

Napi::Object toJs(const Keys& k, const imap::Event& e) {
  using T = imap::Event::Type;
  Napi::Env env = k.env();
  Napi::Object o = Napi::Object::New(env);
  if (e.type == T::Closed) return o;
  k.set(o, Key::accountId, e.accountId);
  if (!e.folder.empty()) k.set(o, Key::folder, e.folder);
  switch (e.type) {
    case T::MessageFetched:
      k.set(o, Key::requestId, static_cast<double>(e.requestId));
      k.set(o, Key::uid, e.uid);
      if (e.message) k.set(o, Key::message, toJs(k, *e.message));
      break;
    case T::ActionDone:
      k.set(o, Key::requestId, static_cast<double>(e.requestId));
      o.Set("modseq", e.modseq ? Napi::Value(Napi::Number::New(env, static_cast<double>(e.modseq))) : env.Null());
      o.Set("uidSet", stringOrNull(env, e.uidSet));
      if (!e.copySource.empty()) {
        Napi::Object copy = Napi::Object::New(env);
        copy.Set("uidValidity", e.uidValidity);
        copy.Set("source", e.copySource);
        copy.Set("dest", e.copyDest);
        o.Set("copyUid", copy);
      }
      if (e.uid) {
        o.Set("uid", e.uid);
        o.Set("uidValidity", e.uidValidity);
      }
      if (e.data) {
        o.Set("data", Napi::Buffer<char>::Copy(env, e.data->data(), e.data->size()));
        o.Set("truncated", e.truncated);
        o.Set("partType", e.partType);
        o.Set("partEncoding", e.partEncoding);
      }
      if (!e.quota.empty()) {
        Napi::Array roots = Napi::Array::New(env, e.quota.size());
        for (size_t i = 0; i < e.quota.size(); ++i) {
          Napi::Object root = Napi::Object::New(env);
          root.Set("root", e.quota[i].root);
          Napi::Array resources = Napi::Array::New(env, e.quota[i].resources.size());
          for (size_t j = 0; j < e.quota[i].resources.size(); ++j) {
            const auto& q = e.quota[i].resources[j];
            Napi::Object res = Napi::Object::New(env);
            res.Set("name", q.name);
            res.Set("usage", static_cast<double>(q.usage));
            res.Set("limit", static_cast<double>(q.limit));
            resources.Set(static_cast<uint32_t>(j), res);
          }
          root.Set("resources", resources);
          roots.Set(static_cast<uint32_t>(i), root);
        }
        o.Set("quota", roots);
      }
      if (e.counts) setCounts(env, o, *e.counts);
      break;
    case T::FolderChanged:
      if (e.counts) setCounts(env, o, *e.counts);
      break;
    case T::MessageDeleted:
      k.set(o, Key::uid, numberOrNull(env, e.uid));
      k.set(o, Key::seq, numberOrNull(env, e.seq));
      break;
    case T::FlagsChanged:
      k.set(o, Key::uid, numberOrNull(env, e.uid));
      k.set(o, Key::seq, numberOrNull(env, e.seq));
      k.set(o, Key::flags, strings(env, e.flags));
      if (e.modseq) k.set(o, Key::modseq, static_cast<double>(e.modseq));
      break;
    case T::ConnectionStatus:
      o.Set("state", imap::stateName(e.state));
      o.Set("previous", imap::stateName(e.previous));
      if (e.retryInMs >= 0) {
        o.Set("attempt", e.attempt);
        o.Set("retryInMs", static_cast<double>(e.retryInMs));
      }
      break;
    case T::FolderReset:
      o.Set("uidValidity", e.uidValidity);
      break;
    case T::SyncStarted:
      o.Set("total", e.total);
      break;
    case T::SyncProgress:
      o.Set("done", e.done);
      o.Set("total", e.total);
      break;
    case T::SyncCompleted: {
      Napi::Array ids = Napi::Array::New(env, e.requestIds.size());
      for (size_t i = 0; i < e.requestIds.size(); ++i) ids.Set(static_cast<uint32_t>(i), static_cast<double>(e.requestIds[i]));
      o.Set("requestIds", ids);
      o.Set("ok", e.errorCode.empty());
      o.Set("durationMs", e.durationMs);
      Napi::Array folders = Napi::Array::New(env, e.syncResults.size());
      for (size_t i = 0; i < e.syncResults.size(); ++i) {
        const auto& r = e.syncResults[i];
        Napi::Object f = Napi::Object::New(env);
        f.Set("folder", r.folder);
        f.Set("uidValidity", numberOrNull(env, r.uidValidity));
        f.Set("highestModseq", r.highestModseq ? Napi::Value(Napi::Number::New(env, static_cast<double>(r.highestModseq))) : env.Null());
        f.Set("newMessages", r.newMessages);
        f.Set("changed", r.changed);
        f.Set("deleted", r.deleted);
        f.Set("durationMs", r.durationMs);
        if (!r.errorCode.empty()) {
          f.Set("errorCode", r.errorCode);
          f.Set("errorMessage", r.errorMessage);
        }
        folders.Set(static_cast<uint32_t>(i), f);
      }
      o.Set("folders", folders);
      break;
    }
    case T::FolderList: {
      o.Set("requestId", static_cast<double>(e.requestId));
      Napi::Array list = Napi::Array::New(env, e.folders.size());
      for (size_t i = 0; i < e.folders.size(); ++i) {
        const auto& f = e.folders[i];
        Napi::Object x = Napi::Object::New(env);
        x.Set("path", f.path);
        x.Set("name", f.name);
        x.Set("delimiter", stringOrNull(env, f.delimiter));
        x.Set("flags", strings(env, f.flags));
        x.Set("specialUse", stringOrNull(env, f.specialUse));
        x.Set("subscribed", f.subscribed);
        list.Set(static_cast<uint32_t>(i), x);
      }
      o.Set("folders", list);
      break;
    }
    default:
      break;
  }
  if (!e.errorCode.empty()) {
    k.set(o, Key::errorCode, e.errorCode);
    k.set(o, Key::errorMessage, e.errorMessage);
  }
  return o;
}

Napi::Object toJs(Napi::Env env, const imap::FolderStatus& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("accountId", s.accountId);
  o.Set("folder", s.folder);
  o.Set("state", s.state);
  o.Set("mode", stringOrNull(env, s.mode));
  o.Set("uidValidity", numberOrNull(env, s.uidValidity));
  o.Set("uidNext", numberOrNull(env, s.uidNext));
  o.Set("highestModseq", s.highestModseq ? Napi::Value(Napi::Number::New(env, static_cast<double>(s.highestModseq))) : env.Null());
  o.Set("exists", s.exists);
  if (!s.lastErrorCode.empty()) {
    o.Set("errorCode", s.lastErrorCode);
    o.Set("errorMessage", s.lastErrorMessage);
  }
  return o;
}

}  // namespace binding
