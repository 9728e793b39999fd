// N-API surface: class NativeEngine { constructor(options), start(): port,
// stop(graceMs): Promise<void>, stats(): [...] }. Options arrive complete and validated
// from ts/options.ts; here they are only copied.
#include <napi.h>

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
  StopWorker(Napi::Env env, std::shared_ptr<Engine> engine, int grace_ms)
      : Napi::AsyncWorker(env), engine_(std::move(engine)), grace_ms_(grace_ms), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { engine_->Stop(grace_ms_); }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  std::shared_ptr<Engine> engine_;
  int grace_ms_;
  Napi::Promise::Deferred deferred_;
};

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeEngine",
                       {InstanceMethod("start", &EngineWrap::Start), InstanceMethod("stop", &EngineWrap::Stop),
                        InstanceMethod("stats", &EngineWrap::Stats)});
  }

  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    if (info.Length() < 1 || !info[0].IsObject()) {
      kevent::addon::ThrowType(info.Env(), "options must be an object");
      return;
    }
    engine_ = std::make_shared<Engine>(ReadOptions(info[0].As<Napi::Object>()));
    // An engine still running when node exits is stopped (threads joined) before the
    // process tears down what they use.
    napi_add_env_cleanup_hook(info.Env(), StopAtExit, engine_.get());
  }

  ~EngineWrap() override {
    if (engine_) napi_remove_env_cleanup_hook(Env(), StopAtExit, engine_.get());
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    int port = 0;
    kevent::Status st = engine_->Start(&port);
    if (!st.ok()) return ThrowStatus(info.Env(), st);
    Ref();  // a running engine is not collected with its last JS reference
    return Napi::Number::New(info.Env(), port);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    const int grace = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    if (engine_->running()) Unref();
    auto* worker = new StopWorker(info.Env(), engine_, grace < 0 ? 0 : grace);
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
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  static void StopAtExit(void* engine) { static_cast<Engine*>(engine)->Stop(0); }

  std::shared_ptr<Engine> engine_;
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
