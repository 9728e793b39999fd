// JS bindings of the aio pool: aioSendfile, aioSendfilePath, configureAio, aioStats.
#pragma once
#include <napi.h>

namespace kevent::addon {

void DefineAioCalls(Napi::Env env, Napi::Object exports);

}  // namespace kevent::addon
