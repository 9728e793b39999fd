// Conversion between JS ukevent objects and the C Ukevent.
#pragma once
#include <napi.h>

#include <string>

#include "queue.h"
#include "ukevent.h"

namespace kevent::addon {

// Reads {id, type, event, reqFlags, user, retData, flags}; on bad input throws and returns false.
bool UkeventFromJs(Napi::Env env, Napi::Value value, Ukevent* out, std::string* path);
// Writes the result fields of a kevent_ctl back onto the caller's object.
void WriteCtlResult(Napi::Env env, Napi::Object target, const Ukevent& ev);
Napi::Object UkeventToJs(Napi::Env env, const Ukevent& ev, Queue& queue);
// Reads an integer argument in [lo, hi]; throws a RangeError/TypeError otherwise.
bool IntegerArg(Napi::Env env, Napi::Value value, const char* name, double lo, double hi, double* out);

}  // namespace kevent::addon
