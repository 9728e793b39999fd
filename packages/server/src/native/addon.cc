// N-API surface: class NativeEngine { constructor(options, dispatch?, accessLog?), start(): port,
// stop(graceMs): Promise<void>, stats(): [...], respond(thread, answers) }. Options arrive
// complete and validated from ts/options.ts; here they are only copied. `dispatch(batch)`
// receives the requests static files do not take, one call per I/O thread batch;
// `accessLog(json)` the finished responses as a JSON array, one call per I/O thread batch too.
#include <napi.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
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
  Napi::Value mime = o.Get("mimeTypes");
  if (mime.IsObject()) {
    Napi::Object m = mime.As<Napi::Object>();
    Napi::Array exts = m.GetPropertyNames();
    for (uint32_t k = 0; k < exts.Length(); ++k) {
      std::string ext = exts.Get(k).ToString().Utf8Value();
      const std::string type = m.Get(ext).ToString().Utf8Value();
      for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      opt->mime_types[ext] = type;
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
  ReadNumber(o, "accessLogLimit", &opt.access_log_limit);
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

// On the JS thread: one batch becomes one call with two arguments, its records as a
// Float64Array and its bytes as one Buffer (layout in dynamic.h); JS decodes lazily.
void CallDispatch(Napi::Env env, Napi::Function dispatch, void* /*context*/, DynamicBatch* raw) {
  std::unique_ptr<DynamicBatch> batch(raw);
  struct Done {
    HookFlow* flow;
    ~Done() {
      if (flow) flow->Done();  // after the call: answers JS gave in it are on their way
    }
  } done{batch->flow.get()};
  if (!env || !dispatch) return;  // torn down
  const size_t bytes = batch->meta.size() * sizeof(double);
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, bytes);
  std::memcpy(ab.Data(), batch->meta.data(), bytes);
  Napi::Float64Array meta = Napi::Float64Array::New(env, batch->meta.size(), ab, 0);
  Napi::Buffer<char> data = Napi::Buffer<char>::Copy(env, batch->data.data(), batch->data.size());
  napi_value args[] = {Napi::Number::New(env, batch->thread), meta, data};
  napi_value result;
  // Not Napi::Function::Call: at environment teardown the call fails, and throwing then is fatal.
  // An exception the dispatcher throws stays pending and reaches node's uncaught handler.
  napi_call_function(env, env.Undefined(), dispatch, 3, args, &result);
}

using DispatchFn = Napi::TypedThreadSafeFunction<void, DynamicBatch, CallDispatch>;

// On the JS thread: one access log batch becomes one JSON string and one call.
void CallAccessLog(Napi::Env env, Napi::Function log, void* /*context*/, AccessBatch* raw) {
  std::unique_ptr<AccessBatch> batch(raw);
  batch->budget->in_flight.fetch_sub(batch->records.size(), std::memory_order_relaxed);
  if (!env || !log) return;  // torn down
  log.Call({Napi::String::New(env, AccessBatchJson(*batch))});
}

using AccessLogFn = Napi::TypedThreadSafeFunction<void, AccessBatch, CallAccessLog>;

// A string is taken as UTF-8; a Buffer or other typed array as its bytes. Appended to `out`.
void BytesOf(napi_env env, napi_value v, std::string* out) {
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok) return;
  if (type == napi_string) {
    // Most heads and bodies here are short: one call into a stack buffer, no length pass.
    char small[512];
    size_t len = 0;
    if (napi_get_value_string_utf8(env, v, small, sizeof small, &len) != napi_ok) return;
    if (len + 4 < sizeof small) {  // not cut short (a cut may stop up to 3 bytes early)
      out->append(small, len);
      return;
    }
    if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return;
    const size_t at = out->size();
    out->resize(at + len);
    // The terminating NUL goes into the std::string's own terminator slot.
    napi_get_value_string_utf8(env, v, out->data() + at, len + 1, &len);
    out->resize(at + len);
    return;
  }
  bool is_typed = false;
  napi_is_typedarray(env, v, &is_typed);
  if (!is_typed) return;
  napi_typedarray_type t;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &t, &length, &data, &ab, &offset) != napi_ok || !data) return;
  size_t element = 1;
  switch (t) {
    case napi_int16_array: case napi_uint16_array: element = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: element = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: element = 8; break;
    default: break;
  }
  out->append(static_cast<const char*>(data), length * element);
}

// The strings of one respond() call, joined by JS into one (hook-wire.ts) so they cross in one
// conversion instead of one per head and body. ASCII (the usual case) converts as a whole;
// otherwise the text is read as UTF-16 and each piece converted on its own, so a piece comes
// out exactly as it would alone (a lone surrogate, even one a neighbour would pair, is U+FFFD).
// ASCII text is loaded straight into the call's store, where its pieces are then referenced.
class JoinedText {
 public:
  // `store` is empty; afterwards it holds the text if ASCII.
  void Load(napi_env env, napi_value v, std::string* store) {
    napi_valuetype type;
    if (napi_typeof(env, v, &type) != napi_ok || type != napi_string) return;
    if (napi_get_value_string_utf16(env, v, nullptr, 0, &units_) != napi_ok) return;
    BytesOf(env, v, store);
    if (store->size() == units_) return;  // one byte per unit: nothing but ASCII
    store->clear();
    ascii_ = false;
    wide_.resize(units_);
    // The terminating NUL goes into the u16string's own terminator slot.
    if (napi_get_value_string_utf16(env, v, wide_.data(), units_ + 1, &units_) != napi_ok) units_ = 0;
    wide_.resize(units_);
  }
  // The piece's offset in `out` (the store): where it already is when ASCII, else appended.
  size_t Piece(double start, double end, std::string* out) const {
    if (!(start >= 0 && start <= end && end <= static_cast<double>(units_))) return out->size();
    const size_t from = static_cast<size_t>(start), to = static_cast<size_t>(end);
    if (ascii_) return from;
    const size_t at = out->size();
    for (size_t i = from; i < to; ++i) {
      uint32_t c = wide_[i];
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < to && wide_[i + 1] >= 0xdc00 && wide_[i + 1] <= 0xdfff)
        c = 0x10000 + ((c - 0xd800) << 10) + (wide_[++i] - 0xdc00);
      else if (c >= 0xd800 && c <= 0xdfff)
        c = 0xfffd;
      if (c < 0x80) {
        out->push_back(static_cast<char>(c));
      } else if (c < 0x800) {
        out->push_back(static_cast<char>(0xc0 | (c >> 6)));
        out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
      } else if (c < 0x10000) {
        out->push_back(static_cast<char>(0xe0 | (c >> 12)));
        out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
      } else {
        out->push_back(static_cast<char>(0xf0 | (c >> 18)));
        out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
      }
    }
    return at;
  }

 private:
  size_t units_ = 0;
  bool ascii_ = true;
  std::u16string wide_;
};

// A thread-safe function live from start to stop, carrying batches from the I/O threads to
// one JS function. Node tears down any left at exit, so it is never released from a finalizer.
template <typename Tsfn, typename Batch>
class BatchChannel {
 public:
  using Sink = std::function<bool(std::unique_ptr<Batch>&)>;
  // The sink an I/O thread hands its batches to; empty when there is no function or it is open.
  Sink Open(Napi::Env env, const Napi::FunctionReference& fn, const char* name) {
    if (fn.IsEmpty() || live_) return nullptr;
    tsfn_ = Tsfn::New(env, fn.Value(), name, 0, 1);
    tsfn_.Unref(env);  // a running engine alone does not keep node alive
    live_ = true;
    Tsfn tsfn = tsfn_;
    return [tsfn](std::unique_ptr<Batch>& batch) mutable {
      if (tsfn.NonBlockingCall(batch.get()) != napi_ok) return false;
      batch.release();  // the JS-side callback owns it now
      return true;
    };
  }
  void Close() {
    if (!live_) return;
    live_ = false;
    tsfn_.Release();
  }

 private:
  Tsfn tsfn_;
  bool live_ = false;
};

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
    options.access_log = info.Length() > 2 && info[2].IsFunction();
    engine_ = std::make_shared<Engine>(std::move(options));
    if (options.handler) dispatch_fn_ = Napi::Persistent(info[1].As<Napi::Function>());
    if (options.access_log) access_fn_ = Napi::Persistent(info[2].As<Napi::Function>());
    // An engine still running when node exits is stopped (threads joined) before the
    // process tears down what they use.
    napi_add_env_cleanup_hook(info.Env(), StopAtExit, engine_.get());
  }

  ~EngineWrap() override {
    if (engine_) napi_remove_env_cleanup_hook(Env(), StopAtExit, engine_.get());
  }

 private:
  void OpenChannels(Napi::Env env) {
    if (auto sink = dispatch_.Open(env, dispatch_fn_, "kevent-server-dispatch")) engine_->SetDispatcher(std::move(sink));
    // The budget in the engine bounds this one's queue.
    if (auto sink = access_.Open(env, access_fn_, "kevent-server-access-log")) engine_->SetAccessSink(std::move(sink));
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    OpenChannels(info.Env());
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
      dispatch_.Close();
      access_.Close();
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
      o.Set("accessLogDropped", Napi::Number::New(env, static_cast<double>(stats[i].access_log_dropped)));
      Napi::Object cache = Napi::Object::New(env);
      cache.Set("entries", Napi::Number::New(env, static_cast<double>(stats[i].file_cache.entries)));
      cache.Set("hits", Napi::Number::New(env, static_cast<double>(stats[i].file_cache.hits)));
      cache.Set("misses", Napi::Number::New(env, static_cast<double>(stats[i].file_cache.misses)));
      cache.Set("coldReads", Napi::Number::New(env, static_cast<double>(stats[i].file_cache.cold_reads)));
      o.Set("fileCache", cache);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  // respond(thread, commands: Float64Array, count, items: (string | Uint8Array)[]): layout in dynamic.h.
  Napi::Value Respond(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsNumber() || !info[3].IsArray())
      return kevent::addon::ThrowType(env, "respond(thread, commands, count, items[, text, spans])");
    Napi::TypedArray typed = info[1].As<Napi::TypedArray>();
    if (typed.TypedArrayType() != napi_float64_array) return kevent::addon::ThrowType(env, "commands must be a Float64Array");
    Napi::Float64Array cmds = typed.As<Napi::Float64Array>();
    const size_t count = std::min<size_t>(info[2].As<Napi::Number>().Uint32Value(), cmds.ElementLength() / kHookStride);
    Napi::Array items = info[3].As<Napi::Array>();
    const uint32_t n_items = items.Length();
    // Optional: the joined strings and their [start, end) spans; item -2 - k is span k.
    // Every command's bytes go into one store; each command then views its pieces of it.
    auto store = std::make_shared<std::string>();
    JoinedText text;
    const double* spans = nullptr;
    size_t n_spans = 0;
    if (info.Length() >= 6 && info[5].IsTypedArray() && info[5].As<Napi::TypedArray>().TypedArrayType() == napi_float64_array) {
      Napi::Float64Array s = info[5].As<Napi::Float64Array>();
      spans = s.Data();
      n_spans = s.ElementLength() / 2;
      if (n_spans) text.Load(env, info[4], store.get());
    }
    struct Span {
      size_t at = 0, size = 0;
    };
    std::vector<Span> pieces(2 * count);  // head and body of each command, as offsets (the store grows)
    auto item = [&](double index, Span* out) {
      if (index <= -2 && -2 - index < static_cast<double>(n_spans)) {
        const size_t k = static_cast<size_t>(-2 - index);
        if (!(spans[2 * k] >= 0 && spans[2 * k] <= spans[2 * k + 1])) return;  // not a span JS writes
        const size_t before = store->size();
        out->at = text.Piece(spans[2 * k], spans[2 * k + 1], store.get());
        out->size = store->size() > before ? store->size() - before : static_cast<size_t>(spans[2 * k + 1] - spans[2 * k]);
        if (out->at + out->size > store->size()) *out = Span{};  // a span the text did not have
        return;
      }
      if (index < 0 || index >= n_items) return;
      napi_value v;
      if (napi_get_element(env, items, static_cast<uint32_t>(index), &v) != napi_ok) return;
      out->at = store->size();
      BytesOf(env, v, store.get());
      out->size = store->size() - out->at;
    };
    const double* c = cmds.Data();
    std::vector<HookCommand> out(count);
    for (size_t i = 0; i < count; ++i, c += kHookStride) {
      HookCommand& cmd = out[i];
      cmd.type = static_cast<int>(c[0]);
      cmd.conn = static_cast<uint64_t>(c[1]);
      cmd.rid = static_cast<uint64_t>(c[2]);
      switch (cmd.type) {
        case kCmdAnswer:
          cmd.status = static_cast<int>(c[3]);
          item(c[4], &pieces[2 * i]);
          item(c[5], &pieces[2 * i + 1]);
          break;
        case kCmdHead:
          cmd.status = static_cast<int>(c[3]);
          item(c[4], &pieces[2 * i]);
          cmd.length = c[5] >= 0 ? static_cast<int64_t>(c[5]) : -1;
          break;
        case kCmdData: item(c[4], &pieces[2 * i + 1]); break;
        case kCmdRead: cmd.length = c[3] > 0 ? static_cast<int64_t>(c[3]) : 0; break;
        default: break;
      }
    }
    std::shared_ptr<const std::string> bytes = std::move(store);
    for (size_t i = 0; i < count; ++i) {
      const Span& h = pieces[2 * i];
      const Span& b = pieces[2 * i + 1];
      if (!h.size && !b.size) continue;
      out[i].head = std::string_view(*bytes).substr(h.at, h.size);
      out[i].body = std::string_view(*bytes).substr(b.at, b.size);
      out[i].bytes = bytes;
    }
    engine_->Respond(info[0].As<Napi::Number>().Int32Value(), std::move(out));
    return env.Undefined();
  }

  static void StopAtExit(void* engine) { static_cast<Engine*>(engine)->Stop(0); }

  std::shared_ptr<Engine> engine_;
  Napi::FunctionReference dispatch_fn_;
  BatchChannel<DispatchFn, DynamicBatch> dispatch_;
  Napi::FunctionReference access_fn_;
  BatchChannel<AccessLogFn, AccessBatch> access_;
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
