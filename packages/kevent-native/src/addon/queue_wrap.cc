#include "queue_wrap.h"

#include <errno.h>

#include <mutex>
#include <unordered_map>
#include <vector>

#include "errors.h"
#include "ukevent_js.h"

namespace kevent::addon {
namespace {

// Queues shared with worker threads, by the id that share() hands out.
std::mutex g_shared_mutex;
std::unordered_map<uint32_t, std::weak_ptr<Queue>> g_shared;
uint32_t g_next_share_id = 1;

double TimeoutArg(Napi::Env env, Napi::Value v, bool* ok) {
  double d = -1;
  *ok = v.IsUndefined() || IntegerArg(env, v, "timeoutMs", -1, 9007199254740991.0, &d);
  return d;
}

uint32_t FlagsArg(Napi::Env env, Napi::Value v, bool* ok) {
  double d = 0;
  *ok = v.IsUndefined() || IntegerArg(env, v, "flags", 0, 4294967295.0, &d);
  return static_cast<uint32_t>(d);
}

}  // namespace

Napi::Function QueueWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeQueue",
                     {
                         InstanceMethod<&QueueWrap::Ctl>("ctl"),
                         InstanceMethod<&QueueWrap::GetEvents>("getEvents"),
                         InstanceMethod<&QueueWrap::Wait>("wait"),
                         InstanceMethod<&QueueWrap::Commit>("commit"),
                         InstanceMethod<&QueueWrap::Close>("close"),
                         InstanceMethod<&QueueWrap::Share>("share"),
                         InstanceMethod<&QueueWrap::StartPoll>("startPoll"),
                         InstanceMethod<&QueueWrap::StopPoll>("stopPoll"),
                         InstanceMethod<&QueueWrap::SetPollRef>("setPollRef"),
                         InstanceMethod<&QueueWrap::PathOf>("pathOf"),
                         InstanceAccessor<&QueueWrap::Fd>("fd"),
                         InstanceAccessor<&QueueWrap::Closed>("closed"),
                     });
}

QueueWrap::QueueWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<QueueWrap>(info) {
  Napi::Env env = info.Env();
  Napi::Value ring = info[0];
  if (!ring.IsUndefined() && !ring.IsNull()) {
    if (!ring.IsTypedArray() || ring.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      ThrowType(env, "ring must be an Int32Array over a SharedArrayBuffer");
      return;
    }
    ring_ = Napi::Persistent(ring.As<Napi::Object>());
  }
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    double id;
    if (!IntegerArg(env, info[1], "shareId", 1, 4294967295.0, &id)) return;
    std::lock_guard<std::mutex> lock(g_shared_mutex);
    auto it = g_shared.find(static_cast<uint32_t>(id));
    if (it != g_shared.end()) core_ = it->second.lock();
    if (!core_ || core_->closed()) {
      core_.reset();
      ErrnoError(env, EBADF, "kevent_attach", "no open queue has this share id").ThrowAsJavaScriptException();
    }
    return;
  }
  Status st;
  core_ = Queue::Create(&st);
  if (!core_) {
    ThrowStatus(env, st);
    return;
  }
  if (!ring_.IsEmpty()) {
    Napi::Int32Array view = ring_.Value().As<Napi::Int32Array>();
    st = core_->AttachRing(view.Data(), view.ByteLength(), static_cast<uint32_t>(
        (view.ByteLength() - kRingHeaderBytes) / kRingSlotBytes));
    if (!st.ok()) {
      core_.reset();
      ThrowStatus(env, st);
    }
  }
}

QueueWrap::~QueueWrap() { StopPolling(); }

std::shared_ptr<Queue> QueueWrap::CoreOf(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) {
    ThrowType(env, "queue must be a Queue");
    return nullptr;
  }
  Napi::Object obj = value.As<Napi::Object>();
  // The TypeScript Queue keeps its native handle in `native`.
  if (obj.Has("native")) obj = obj.Get("native").As<Napi::Object>();
  QueueWrap* wrap = nullptr;
  if (napi_unwrap(env, obj, reinterpret_cast<void**>(&wrap)) != napi_ok || !wrap) {
    Napi::Error e = env.GetAndClearPendingException();
    (void)e;
    ThrowType(env, "queue must be a Queue");
    return nullptr;
  }
  if (!wrap->Live(env)) return nullptr;
  return wrap->core_;
}

Queue* QueueWrap::Live(Napi::Env env) {
  if (!core_ || core_->closed()) {
    ErrnoError(env, EBADF, "kevent", "queue is closed").ThrowAsJavaScriptException();
    return nullptr;
  }
  return core_.get();
}

Napi::Value QueueWrap::Ctl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Queue* q = Live(env);
  if (!q) return env.Undefined();
  double cmd;
  if (!IntegerArg(env, info[0], "cmd", 0, 4294967295.0, &cmd)) return env.Undefined();
  std::vector<Ukevent> events;
  std::vector<std::string> paths;
  Napi::Array list;
  if (!info[1].IsUndefined()) {
    if (!info[1].IsArray()) return ThrowType(env, "ukevents must be an array");
    list = info[1].As<Napi::Array>();
    events.resize(list.Length());
    paths.resize(list.Length());
    for (uint32_t i = 0; i < list.Length(); ++i) {
      if (!UkeventFromJs(env, list.Get(i), &events[i], &paths[i])) return env.Undefined();
    }
  }
  Status st;
  int n = q->Ctl(static_cast<uint32_t>(cmd), events.data(), paths.data(), events.size(), &st);
  if (n < 0) return ThrowStatus(env, st);
  for (uint32_t i = 0; i < events.size(); ++i) WriteCtlResult(env, list.Get(i).As<Napi::Object>(), events[i]);
  return Napi::Number::New(env, n);
}

Napi::Value QueueWrap::GetEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Queue* q = Live(env);
  if (!q) return env.Undefined();
  double min_nr, max_nr;
  bool ok;
  if (!IntegerArg(env, info[0], "minNr", 0, 1 << 20, &min_nr)) return env.Undefined();
  if (!IntegerArg(env, info[1], "maxNr", 1, 1 << 20, &max_nr)) return env.Undefined();
  double timeout = TimeoutArg(env, info[2], &ok);
  if (!ok) return env.Undefined();
  uint32_t flags = FlagsArg(env, info[3], &ok);
  if (!ok) return env.Undefined();
  std::vector<Ukevent> out;
  Status st;
  int n = q->GetEvents(static_cast<size_t>(min_nr), static_cast<size_t>(max_nr), static_cast<int64_t>(timeout),
                       flags, &out, &st);
  if (n < 0) return ThrowStatus(env, st);
  Napi::Array result = Napi::Array::New(env, out.size());
  for (uint32_t i = 0; i < out.size(); ++i) result.Set(i, UkeventToJs(env, out[i], *q));
  return result;
}

Napi::Value QueueWrap::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Queue* q = Live(env);
  if (!q) return env.Undefined();
  double num, old_uidx;
  bool ok;
  if (!IntegerArg(env, info[0], "num", 0, 4294967295.0, &num)) return env.Undefined();
  if (!IntegerArg(env, info[1], "oldUidx", 0, 4294967295.0, &old_uidx)) return env.Undefined();
  double timeout = TimeoutArg(env, info[2], &ok);
  if (!ok) return env.Undefined();
  uint32_t flags = FlagsArg(env, info[3], &ok);
  if (!ok) return env.Undefined();
  Status st;
  int n = q->Wait(static_cast<uint32_t>(num), static_cast<uint32_t>(old_uidx), static_cast<int64_t>(timeout), flags, &st);
  if (n < 0) return ThrowStatus(env, st);
  return Napi::Number::New(env, n);
}

Napi::Value QueueWrap::Commit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Queue* q = Live(env);
  if (!q) return env.Undefined();
  double idx, over;
  if (!IntegerArg(env, info[0], "newUidx", 0, 4294967295.0, &idx)) return env.Undefined();
  if (!IntegerArg(env, info[1], "over", 0, 4294967295.0, &over)) return env.Undefined();
  Status st;
  int n = q->Commit(static_cast<uint32_t>(idx), static_cast<uint32_t>(over), &st);
  if (n < 0) return ThrowStatus(env, st);
  return Napi::Number::New(env, n);
}

Napi::Value QueueWrap::Close(const Napi::CallbackInfo& info) {
  StopPolling();
  if (core_) core_->Close();
  return info.Env().Undefined();
}

Napi::Value QueueWrap::Share(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Queue* q = Live(env);
  if (!q) return env.Undefined();
  std::lock_guard<std::mutex> lock(g_shared_mutex);
  for (auto it = g_shared.begin(); it != g_shared.end();) {
    if (it->second.expired()) it = g_shared.erase(it);
    else ++it;
  }
  for (auto& [id, weak] : g_shared) {
    if (weak.lock() == core_) return Napi::Number::New(env, id);
  }
  const uint32_t id = g_next_share_id++;
  g_shared[id] = core_;
  return Napi::Number::New(env, id);
}

Napi::Value QueueWrap::StartPoll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Queue* q = Live(env);
  if (!q) return env.Undefined();
  if (!info[0].IsFunction()) return ThrowType(env, "callback must be a function");
  on_ready_ = Napi::Persistent(info[0].As<Napi::Function>());
  if (poll_) return env.Undefined();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return ThrowErrno(env, EINVAL, "uv_default_loop");
  auto* handle = new uv_poll_t;
  int r = uv_poll_init(loop, handle, q->fd());
  if (r != 0) {
    delete handle;
    return ThrowErrno(env, -r, "uv_poll_init");
  }
  handle->data = this;
  r = uv_poll_start(handle, UV_READABLE, OnPoll);
  if (r != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    return ThrowErrno(env, -r, "uv_poll_start");
  }
  poll_ = handle;
  Ref();  // an active watcher keeps its queue object alive, like a listening server
  napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
  return env.Undefined();
}

void QueueWrap::OnPoll(uv_poll_t* handle, int, int) {
  auto* self = static_cast<QueueWrap*>(handle->data);
  if (!self || self->on_ready_.IsEmpty()) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  self->on_ready_.MakeCallback(self->Value(), {});
  if (env.IsExceptionPending()) {
    Napi::Error error = env.GetAndClearPendingException();
    napi_fatal_exception(env, error.Value());
  }
}

void QueueWrap::OnEnvCleanup(void* self) { static_cast<QueueWrap*>(self)->StopPolling(); }

void QueueWrap::StopPolling() {
  if (!poll_) return;
  uv_poll_t* handle = poll_;
  poll_ = nullptr;
  handle->data = nullptr;
  uv_poll_stop(handle);
  uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  napi_remove_env_cleanup_hook(Env(), OnEnvCleanup, this);
  on_ready_.Reset();
  Unref();
}

Napi::Value QueueWrap::StopPoll(const Napi::CallbackInfo& info) {
  StopPolling();
  return info.Env().Undefined();
}

Napi::Value QueueWrap::SetPollRef(const Napi::CallbackInfo& info) {
  if (poll_) {
    if (info[0].ToBoolean()) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    else uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }
  return info.Env().Undefined();
}

Napi::Value QueueWrap::Fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), core_ ? core_->fd() : -1);
}

Napi::Value QueueWrap::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !core_ || core_->closed());
}

Napi::Value QueueWrap::PathOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Queue* q = Live(env);
  if (!q) return env.Undefined();
  double id;
  if (!IntegerArg(env, info[0], "id", 0, 2147483647.0, &id)) return env.Undefined();
  return Napi::String::New(env, q->PathOf(static_cast<uint64_t>(id)));
}

}  // namespace kevent::addon
