// Module entry: the Queue class, the socket calls, the aio calls, and the ring layout constants that the
// TypeScript side must agree with.
#include <napi.h>

#include "aio_wrap.h"
#include "queue_wrap.h"
#include "sockets.h"
#include "ukevent.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeQueue", kevent::addon::QueueWrap::Define(env));
  kevent::addon::DefineSocketCalls(env, exports);
  kevent::addon::DefineAioCalls(env, exports);
  exports.Set("RING_HEADER_BYTES", Napi::Number::New(env, kevent::kRingHeaderBytes));
  exports.Set("RING_SLOT_BYTES", Napi::Number::New(env, kevent::kRingSlotBytes));
  return exports;
}

}  // namespace

NODE_API_MODULE(kevent_native, Init)
