// N-API surface: class NativeEngine { constructor(options, dispatch?), start(): port,
// stop(graceMs): Promise<void>, stats(): [...], respond(thread, answers) }. Options arrive
// complete and validated from ts/options.ts; here they are only copied. `dispatch(batch)`
// receives the requests static files do not take, one call per I/O thread batch.
#include <napi.h>

#include <cstdlib>
#include <functional>
#include <memory>

#include "engine.h"
#include "errors.h"

namespace kserver {
namespace {

using kevent::addon::ThrowStatus;

template <typename T>
void ReadNumber(const Napi::Object& o, const char* key, T* out) {
  Napi::Value v = o.Get(key);
  if (v.IsNumber()) *out = static_cast<T>(v.As<Napi::Number>().DoubleValue());
}

void ReadBool(const Napi::Object& o, const char* key, bool* out) {
  Napi::Value v = o.Get(key);
  if (v.IsBoolean()) *out = v.As<Napi::Boolean>().Value();
}

void ReadString(const Napi::Object& o, const char* key, std::string* out) {
  Napi::Value v = o.Get(key);
  if (v.IsString()) *out = v.As<Napi::String>().Utf8Value();
}

// cacheRules, headerRules and errorPages, already validated in ts/options.ts.
void ReadRules(const Napi::Object& o, Options* opt) {
  Napi::Value cache = o.Get("cacheRules");
  if (cache.IsArray()) {
    Napi::Array a = cache.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Object r = a.Get(i).As<Napi::Object>();
      CacheRule rule;
      ReadString(r, "match", &rule.match);
      ReadString(r, "cacheControl", &rule.cache_control);
      opt->cache_rules.push_back(std::move(rule));
    }
  }
  Napi::Value headers = o.Get("headerRules");
  if (headers.IsArray()) {
    Napi::Array a = headers.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Object r = a.Get(i).As<Napi::Object>();
      HeaderRule rule;
      ReadString(r, "match", &rule.match);
      Napi::Object h = r.Get("headers").As<Napi::Object>();
      Napi::Array names = h.GetPropertyNames();
      for (uint32_t k = 0; k < names.Length(); ++k) {
        const std::string name = names.Get(k).ToString().Utf8Value();
        rule.headers.emplace_back(name, h.Get(name).ToString().Utf8Value());
      }
      opt->header_rules.push_back(std::move(rule));
    }
  }
  Napi::Value pages = o.Get("errorPages");
  if (pages.IsObject()) {
    Napi::Object p = pages.As<Napi::Object>();
    Napi::Array statuses = p.GetPropertyNames();
    for (uint32_t k = 0; k < statuses.Length(); ++k) {
      const std::string status = statuses.Get(k).ToString().Utf8Value();
      opt->error_pages[std::atoi(status.c_str())] = p.Get(status).ToString().Utf8Value();
    }
  }
}

Options ReadOptions(const Napi::Object& o) {
  Options opt;
  ReadString(o, "host", &opt.host);
  ReadNumber(o, "port", &opt.port);
  ReadNumber(o, "threads", &opt.threads);
  ReadBool(o, "reusePort", &opt.reuse_port);
  ReadNumber(o, "backlog", &opt.backlog);
  ReadString(o, "root", &opt.root);
  Napi::Value index = o.Get("index");
  if (index.IsArray()) {
    Napi::Array a = index.As<Napi::Array>();
    opt.index.clear();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Value item = a.Get(i);
      if (item.IsString()) opt.index.push_back(item.As<Napi::String>().Utf8Value());
    }
  }
  std::string dotfiles = "deny";
  ReadString(o, "dotfiles", &dotfiles);
  opt.dotfiles = dotfiles == "allow" ? Dotfiles::kAllow : dotfiles == "ignore" ? Dotfiles::kIgnore : Dotfiles::kDeny;
  ReadBool(o, "followSymlinks", &opt.follow_symlinks);
  ReadNumber(o, "smallFileMax", &opt.small_file_max);
  ReadBool(o, "listing", &opt.listing);
  ReadBool(o, "precompressed", &opt.precompressed);
  ReadNumber(o, "maxRanges", &opt.max_ranges);
  ReadNumber(o, "fileCacheEntries", &opt.file_cache_entries);
  ReadNumber(o, "fileCacheTtl", &opt.file_cache_ttl_ms);
  ReadRules(o, &opt);
  ReadNumber(o, "maxRequestLine", &opt.max_request_line);
  ReadNumber(o, "maxHeaderSize", &opt.max_header_size);
  ReadNumber(o, "maxHeaders", &opt.max_headers);
  ReadNumber(o, "maxBodySize", &opt.max_body_size);
  ReadNumber(o, "maxChunkExtension", &opt.max_chunk_extension);
  ReadNumber(o, "maxRequestsPerConnection", &opt.max_requests_per_connection);
  ReadNumber(o, "maxConnections", &opt.max_connections);
  ReadNumber(o, "headerTimeout", &opt.header_timeout_ms);
  ReadNumber(o, "bodyTimeout", &opt.body_timeout_ms);
  ReadNumber(o, "idleTimeout", &opt.idle_timeout_ms);
  ReadNumber(o, "sendTimeout", &opt.send_timeout_ms);
  ReadNumber(o, "lingerTimeout", &opt.linger_ms);
  return opt;
}

// Stop blocks until in-flight responses finish, so it runs on a libuv worker thread.
class StopWorker : public Napi::AsyncWorker {
 public:
  StopWorker(Napi::Env env, std::shared_ptr<Engine> engine, int grace_ms, std::function<void()> on_stopped)
      : Napi::AsyncWorker(env),
        engine_(std::move(engine)),
        grace_ms_(grace_ms),
        on_stopped_(std::move(on_stopped)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { engine_->Stop(grace_ms_); }
  void OnOK() override {
    on_stopped_();
    deferred_.Resolve(Env().Undefined());
  }

 private:
  std::shared_ptr<Engine> engine_;
  int grace_ms_;
  std::function<void()> on_stopped_;  // on the JS thread, once no I/O thread runs
  Napi::Promise::Deferred deferred_;
};

// On the JS thread: one batch becomes one array and one call.
void CallDispatch(Napi::Env env, Napi::Function dispatch, void* /*context*/, DynamicBatch* raw) {
  std::unique_ptr<DynamicBatch> batch(raw);
  if (!env || !dispatch) return;  // torn down
  Napi::Array list = Napi::Array::New(env, batch->requests.size());
  uint32_t i = 0;
  for (DynamicRequest& r : batch->requests) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("thread", Napi::Number::New(env, batch->thread));
    o.Set("conn", Napi::Number::New(env, static_cast<double>(r.conn)));
    o.Set("seq", Napi::Number::New(env, static_cast<double>(r.seq)));
    o.Set("method", Napi::String::New(env, r.method));
    o.Set("url", Napi::String::New(env, r.target));
    o.Set("httpVersion", Napi::String::New(env, r.http_minor == 0 ? "1.0" : "1.1"));
    Napi::Array headers = Napi::Array::New(env, r.headers.size() * 2);
    uint32_t h = 0;
    for (const auto& [name, value] : r.headers) {
      headers.Set(h++, Napi::String::New(env, name));
      headers.Set(h++, Napi::String::New(env, value));
    }
    o.Set("rawHeaders", headers);
    o.Set("body", Napi::Buffer<char>::Copy(env, r.body.data(), r.body.size()));
    list.Set(i++, o);
  }
  dispatch.Call({list});
}

using DispatchFn = Napi::TypedThreadSafeFunction<void, DynamicBatch, CallDispatch>;

std::string BytesOf(const Napi::Value& v) {
  if (v.IsBuffer()) {
    auto b = v.As<Napi::Buffer<char>>();
    return std::string(b.Data(), b.Length());
  }
  if (v.IsString()) return v.As<Napi::String>().Utf8Value();
  return std::string();
}

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeEngine",
                       {InstanceMethod("start", &EngineWrap::Start), InstanceMethod("stop", &EngineWrap::Stop),
                        InstanceMethod("stats", &EngineWrap::Stats), InstanceMethod("respond", &EngineWrap::Respond)});
  }

  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    if (info.Length() < 1 || !info[0].IsObject()) {
      kevent::addon::ThrowType(info.Env(), "options must be an object");
      return;
    }
    Options options = ReadOptions(info[0].As<Napi::Object>());
    options.handler = info.Length() > 1 && info[1].IsFunction();
    engine_ = std::make_shared<Engine>(std::move(options));
    if (options.handler) dispatch_fn_ = Napi::Persistent(info[1].As<Napi::Function>());
    // An engine still running when node exits is stopped (threads joined) before the
    // process tears down what they use.
    napi_add_env_cleanup_hook(info.Env(), StopAtExit, engine_.get());
  }

  ~EngineWrap() override {
    if (engine_) napi_remove_env_cleanup_hook(Env(), StopAtExit, engine_.get());
  }

 private:
  // The thread-safe function lives from start to stop: node tears down any left at exit, so
  // it is never released from a finalizer.
  void OpenDispatch(Napi::Env env) {
    if (dispatch_fn_.IsEmpty() || dispatch_live_) return;
    dispatch_ = DispatchFn::New(env, dispatch_fn_.Value(), "kevent-server-dispatch", 0, 1);
    dispatch_.Unref(env);  // a running engine alone does not keep node alive
    dispatch_live_ = true;
    DispatchFn tsfn = dispatch_;
    engine_->SetDispatcher([tsfn](std::unique_ptr<DynamicBatch>& batch) mutable {
      if (tsfn.NonBlockingCall(batch.get()) != napi_ok) return false;
      batch.release();  // CallDispatch owns it now
      return true;
    });
  }

  void CloseDispatch() {
    if (!dispatch_live_) return;
    dispatch_live_ = false;
    dispatch_.Release();
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    OpenDispatch(info.Env());
    int port = 0;
    kevent::Status st = engine_->Start(&port);
    if (!st.ok()) return ThrowStatus(info.Env(), st);
    if (!running_ref_) {
      Ref();  // a running engine is not collected with its last JS reference
      running_ref_ = true;
    }
    return Napi::Number::New(info.Env(), port);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    const int grace = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    Ref();  // `this` must outlive the worker; released in the callback
    auto* worker = new StopWorker(info.Env(), engine_, grace < 0 ? 0 : grace, [this] {
      CloseDispatch();
      if (running_ref_) {
        running_ref_ = false;
        Unref();
      }
      Unref();
    });
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const std::vector<ThreadStats> stats = engine_->Stats();
    Napi::Array out = Napi::Array::New(env, stats.size());
    for (size_t i = 0; i < stats.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("accepted", Napi::Number::New(env, static_cast<double>(stats[i].accepted)));
      o.Set("connections", Napi::Number::New(env, stats[i].connections));
      o.Set("acceptPauses", Napi::Number::New(env, static_cast<double>(stats[i].accept_pauses)));
      o.Set("balancePauses", Napi::Number::New(env, static_cast<double>(stats[i].balance_pauses)));
      Napi::Object cache = Napi::Object::New(env);
      cache.Set("entries", Napi::Number::New(env, static_cast<double>(stats[i].file_cache.entries)));
      cache.Set("hits", Napi::Number::New(env, static_cast<double>(stats[i].file_cache.hits)));
      cache.Set("misses", Napi::Number::New(env, static_cast<double>(stats[i].file_cache.misses)));
      o.Set("fileCache", cache);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  // respond(thread, [{ conn, seq, status, headers: [name, value, ...], body }]).
  Napi::Value Respond(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsArray())
      return kevent::addon::ThrowType(env, "respond(thread, answers[])");
    Napi::Array list = info[1].As<Napi::Array>();
    std::vector<DynamicResponse> out;
    out.reserve(list.Length());
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value item = list.Get(i);
      if (!item.IsObject()) continue;
      Napi::Object o = item.As<Napi::Object>();
      DynamicResponse r{};
      r.conn = static_cast<uint64_t>(o.Get("conn").ToNumber().DoubleValue());
      r.seq = static_cast<uint64_t>(o.Get("seq").ToNumber().DoubleValue());
      r.status = o.Get("status").ToNumber().Int32Value();
      Napi::Value headers = o.Get("headers");
      if (headers.IsArray()) {
        Napi::Array h = headers.As<Napi::Array>();
        for (uint32_t k = 0; k + 1 < h.Length(); k += 2)
          r.headers.emplace_back(h.Get(k).ToString().Utf8Value(), h.Get(k + 1).ToString().Utf8Value());
      }
      r.body = BytesOf(o.Get("body"));
      out.push_back(std::move(r));
    }
    engine_->Respond(info[0].As<Napi::Number>().Int32Value(), std::move(out));
    return env.Undefined();
  }

  static void StopAtExit(void* engine) { static_cast<Engine*>(engine)->Stop(0); }

  std::shared_ptr<Engine> engine_;
  Napi::FunctionReference dispatch_fn_;
  DispatchFn dispatch_;
  bool dispatch_live_ = false;
  bool running_ref_ = false;
};

}  // namespace
}  // namespace kserver

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeEngine", kserver::EngineWrap::Define(env));
  return exports;
}
}  // namespace

NODE_API_MODULE(kevent_server, Init)
