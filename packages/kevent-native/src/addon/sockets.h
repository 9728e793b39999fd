// Non-blocking, close-on-exec socket and fd calls for servers written in JS on the queue.
#pragma once
#include <napi.h>

namespace kevent::addon {

void DefineSocketCalls(Napi::Env env, Napi::Object exports);

}  // namespace kevent::addon
