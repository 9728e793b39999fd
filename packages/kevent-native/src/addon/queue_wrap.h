// JS class over kevent::Queue. One wrapper per JS handle; handles attached from worker
// threads share the same core queue and ring memory.
#pragma once
#include <napi.h>
#include <uv.h>

#include <memory>

#include "queue.h"

namespace kevent::addon {

class QueueWrap : public Napi::ObjectWrap<QueueWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new NativeQueue(ringView: Int32Array | null, shareId?: number)
  explicit QueueWrap(const Napi::CallbackInfo& info);
  ~QueueWrap() override;

  // For other parts of the addon (aio) that post to the queue a JS object wraps.
  static std::shared_ptr<Queue> CoreOf(Napi::Env env, Napi::Value value);

 private:
  Napi::Value Ctl(const Napi::CallbackInfo& info);
  Napi::Value GetEvents(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value Commit(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Share(const Napi::CallbackInfo& info);
  Napi::Value StartPoll(const Napi::CallbackInfo& info);
  Napi::Value StopPoll(const Napi::CallbackInfo& info);
  Napi::Value SetPollRef(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value PathOf(const Napi::CallbackInfo& info);

  // Returns the core or throws EBADF if this handle was closed.
  Queue* Live(Napi::Env env);
  void StopPolling();
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnEnvCleanup(void* self);

  std::shared_ptr<Queue> core_;
  Napi::ObjectReference ring_;  // keeps the SharedArrayBuffer the core writes into alive
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference on_ready_;
};

}  // namespace kevent::addon
