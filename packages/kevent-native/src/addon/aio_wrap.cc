#include "aio_wrap.h"

#include <errno.h>

#include <cstdint>
#include <string>

#include "aio_pool.h"
#include "errors.h"
#include "queue_wrap.h"
#include "ukevent_js.h"

namespace kevent::addon {
namespace {

constexpr double kMaxSafe = 9007199254740991.0;

// One pool per process, shared by the main thread and every worker thread. It is never
// destroyed: at exit its threads may sit in sendfile or open, and joining them from a static
// destructor would hold the process up; the kernel reclaims them and their fds.
AioPool& Pool() {
  static AioPool* pool = new AioPool();
  return *pool;
}

bool FdArg(Napi::Env env, Napi::Value v, const char* name, int* fd) {
  double d;
  if (!IntegerArg(env, v, name, 0, 2147483647.0, &d)) return false;
  *fd = static_cast<int>(d);
  return true;
}

// A file offset or byte count: a safe-integer number, or a bigint for the rest of 64 bits.
bool SizeArg(Napi::Env env, Napi::Value v, const char* name, uint64_t* out) {
  *out = 0;
  if (v.IsUndefined()) return true;
  if (v.IsBigInt()) {
    bool lossless = false;
    const uint64_t u = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless || u > static_cast<uint64_t>(INT64_MAX)) {
      std::string m = std::string(name) + " must be a bigint from 0 to 2^63-1";
      return ThrowRange(env, m.c_str()), false;
    }
    *out = u;
    return true;
  }
  double d;
  if (!IntegerArg(env, v, name, 0, kMaxSafe, &d)) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

Napi::Value Submit(Napi::Env env, AioRequest request) {
  uint64_t cookie = 0;
  Status s = Pool().Submit(std::move(request), &cookie);
  if (!s.ok()) return ThrowStatus(env, s);
  return Napi::Number::New(env, static_cast<double>(cookie));
}

// aioSendfile(queue, sockFd, inFd, offset, count) -> cookie
Napi::Value AioSendfile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AioRequest r;
  r.queue = QueueWrap::CoreOf(env, info[0]);
  if (!r.queue) return env.Undefined();
  if (!FdArg(env, info[1], "sockFd", &r.sock_fd) || !FdArg(env, info[2], "inFd", &r.in_fd) ||
      !SizeArg(env, info[3], "offset", &r.offset) || !SizeArg(env, info[4], "count", &r.count))
    return env.Undefined();
  return Submit(env, std::move(r));
}

// aioSendfilePath(queue, sockFd, header, path, offset, count) -> cookie
Napi::Value AioSendfilePath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AioRequest r;
  r.queue = QueueWrap::CoreOf(env, info[0]);
  if (!r.queue) return env.Undefined();
  if (!FdArg(env, info[1], "sockFd", &r.sock_fd)) return env.Undefined();
  Napi::Value header = info[2];
  if (header.IsTypedArray()) {
    // Copied: the caller may reuse its buffer at once. Only the header; file bytes never
    // enter user space.
    Napi::TypedArray t = header.As<Napi::TypedArray>();
    r.header.assign(static_cast<const char*>(t.ArrayBuffer().Data()) + t.ByteOffset(), t.ByteLength());
  } else if (!header.IsUndefined() && !header.IsNull()) {
    return ThrowType(env, "header must be a Buffer, a Uint8Array, or null");
  }
  if (!info[3].IsString()) return ThrowType(env, "path must be a string");
  r.path = info[3].As<Napi::String>().Utf8Value();
  if (r.path.empty() || r.path.find('\0') != std::string::npos)
    return ThrowType(env, "path must be a non-empty string without NUL");
  if (!SizeArg(env, info[4], "offset", &r.offset) || !SizeArg(env, info[5], "count", &r.count)) return env.Undefined();
  return Submit(env, std::move(r));
}

Napi::Value StatsToJs(Napi::Env env) {
  const AioStats st = Pool().Stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("threads", Napi::Number::New(env, st.threads));
  o.Set("busy", Napi::Number::New(env, st.busy));
  o.Set("jobs", Napi::Number::New(env, static_cast<double>(st.jobs)));
  o.Set("queued", Napi::Number::New(env, static_cast<double>(st.queued)));
  o.Set("parked", Napi::Number::New(env, static_cast<double>(st.parked)));
  o.Set("completed", Napi::Number::New(env, static_cast<double>(st.completed)));
  o.Set("cancelled", Napi::Number::New(env, static_cast<double>(st.cancelled)));
  o.Set("parks", Napi::Number::New(env, static_cast<double>(st.parks)));
  return o;
}

// configureAio({ threads }) -> stats
Napi::Value ConfigureAio(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) return ThrowType(env, "options must be an object");
  Napi::Value threads = info[0].As<Napi::Object>().Get("threads");
  double n = 0;
  if (!threads.IsUndefined() && !IntegerArg(env, threads, "threads", 0, 1024, &n)) return env.Undefined();
  Status s = Pool().Resize(static_cast<unsigned>(n));
  if (!s.ok()) return ThrowStatus(env, s);
  return StatsToJs(env);
}

Napi::Value AioStatsCall(const Napi::CallbackInfo& info) { return StatsToJs(info.Env()); }

}  // namespace

void DefineAioCalls(Napi::Env env, Napi::Object exports) {
  exports.Set("aioSendfile", Napi::Function::New(env, AioSendfile, "aioSendfile"));
  exports.Set("aioSendfilePath", Napi::Function::New(env, AioSendfilePath, "aioSendfilePath"));
  exports.Set("configureAio", Napi::Function::New(env, ConfigureAio, "configureAio"));
  exports.Set("aioStats", Napi::Function::New(env, AioStatsCall, "aioStats"));
  exports.Set("AIO_DEFAULT_THREADS", Napi::Number::New(env, AioPool::DefaultThreads()));
}

}  // namespace kevent::addon
