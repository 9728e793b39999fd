// errno -> JS Error with `code` (e.g. 'EBADF'), `errno` and `syscall`, like Node's own errors.
#pragma once
#include <napi.h>

#include "status.h"

namespace kevent::addon {

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const char* detail = nullptr);
// Throws and returns undefined, for `return ThrowStatus(env, st);` in a method.
Napi::Value ThrowStatus(Napi::Env env, const Status& status);
Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall);
// TypeError / RangeError with a Node-style code (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE).
Napi::Value ThrowType(Napi::Env env, const char* message);
Napi::Value ThrowRange(Napi::Env env, const char* message);
const char* ErrnoName(int err);

}  // namespace kevent::addon
