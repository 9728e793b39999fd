#include "ukevent_js.h"

#include <cmath>
#include <string>

#include "errors.h"

namespace kevent::addon {
namespace {

constexpr double kMaxSafe = 9007199254740991.0;

bool UserFromJs(Napi::Env env, Napi::Value value, Ukevent* out) {
  if (value.IsUndefined() || value.IsNull()) return true;
  if (value.IsBigInt()) {
    bool lossless = false;
    uint64_t u = value.As<Napi::BigInt>().Uint64Value(&lossless);
    if (lossless) {
      out->user = u;
      out->aux |= AUX_USER_BIGINT;
      return true;
    }
    int64_t s = value.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) return ThrowRange(env, "ukevent.user must fit in 64 bits"), false;
    out->user = static_cast<uint64_t>(s);
    out->aux |= AUX_USER_BIGINT | AUX_USER_SIGNED;
    return true;
  }
  if (!value.IsNumber()) return ThrowType(env, "ukevent.user must be a number or a bigint"), false;
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(std::fabs(d) <= kMaxSafe) || std::trunc(d) != d)
    return ThrowRange(env, "ukevent.user must be a safe integer (use a bigint for 64-bit values)"), false;
  out->user = static_cast<uint64_t>(static_cast<int64_t>(d));
  return true;
}

Napi::Value UserToJs(Napi::Env env, const Ukevent& ev) {
  if (ev.aux & AUX_USER_BIGINT) {
    if (ev.aux & AUX_USER_SIGNED) return Napi::BigInt::New(env, static_cast<int64_t>(ev.user));
    return Napi::BigInt::New(env, ev.user);
  }
  return Napi::Number::New(env, static_cast<double>(static_cast<int64_t>(ev.user)));
}

}  // namespace

bool IntegerArg(Napi::Env env, Napi::Value value, const char* name, double lo, double hi, double* out) {
  if (!value.IsNumber()) {
    std::string m = std::string(name) + " must be a number";
    return ThrowType(env, m.c_str()), false;
  }
  double d = value.As<Napi::Number>().DoubleValue();
  if (std::isnan(d) || std::trunc(d) != d || d < lo || d > hi) {
    std::string m = std::string(name) + " must be an integer from " + std::to_string(static_cast<long long>(lo)) +
                    " to " + std::to_string(static_cast<long long>(hi));
    return ThrowRange(env, m.c_str()), false;
  }
  *out = d;
  return true;
}

bool UkeventFromJs(Napi::Env env, Napi::Value value, Ukevent* out, std::string* path) {
  if (!value.IsObject()) return ThrowType(env, "each ukevent must be an object"), false;
  Napi::Object o = value.As<Napi::Object>();
  *out = Ukevent{};
  double d;
  if (!IntegerArg(env, o.Get("type"), "ukevent.type", 0, 4294967295.0, &d)) return false;
  out->type = static_cast<uint32_t>(d);
  Napi::Value event = o.Get("event");
  if (!event.IsUndefined()) {
    if (!IntegerArg(env, event, "ukevent.event", 0, 4294967295.0, &d)) return false;
    out->event = static_cast<uint32_t>(d);
  }
  Napi::Value req = o.Get("reqFlags");
  if (!req.IsUndefined()) {
    if (!IntegerArg(env, req, "ukevent.reqFlags", 0, 4294967295.0, &d)) return false;
    out->req_flags = static_cast<uint32_t>(d);
  }
  Napi::Value flags = o.Get("flags");
  if (!flags.IsUndefined()) {
    if (!IntegerArg(env, flags, "ukevent.flags", 0, 4294967295.0, &d)) return false;
    if (static_cast<uint32_t>(d) & KEVENT_FLAGS_ABSTIME) out->aux |= AUX_ABSTIME;
  }
  Napi::Value ret_data = o.Get("retData");
  if (!ret_data.IsUndefined() && !ret_data.IsNull()) {
    if (!IntegerArg(env, ret_data, "ukevent.retData", 0, kMaxSafe, &d)) return false;
    out->ret_data = static_cast<uint64_t>(d);
  }
  Napi::Value id = o.Get("id");
  if (out->type == KEVENT_INODE) {
    if (!id.IsString()) return ThrowType(env, "a KEVENT_INODE ukevent's id must be a directory path"), false;
    *path = id.As<Napi::String>().Utf8Value();
    if (path->empty() || path->find('\0') != std::string::npos)
      return ThrowType(env, "a KEVENT_INODE ukevent's id must be a non-empty path without NUL"), false;
  } else if (id.IsBigInt()) {
    bool lossless = false;
    out->id = id.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) return ThrowRange(env, "ukevent.id must be a non-negative 64-bit integer"), false;
  } else {
    if (!IntegerArg(env, id, "ukevent.id", 0, kMaxSafe, &d)) return false;
    out->id = static_cast<uint64_t>(d);
  }
  return UserFromJs(env, o.Get("user"), out);
}

void WriteCtlResult(Napi::Env env, Napi::Object target, const Ukevent& ev) {
  target.Set("retFlags", Napi::Number::New(env, ev.ret_flags));
  if (ev.ret_flags & KEVENT_RET_BROKEN) {
    target.Set("errno", Napi::Number::New(env, -static_cast<int>(ev.err)));
    target.Set("code", Napi::String::New(env, ErrnoName(static_cast<int>(ev.err))));
  } else if (ev.ret_flags & KEVENT_RET_DONE) {
    target.Set("retData", Napi::Number::New(env, static_cast<double>(ev.ret_data)));
  }
}

Napi::Object UkeventToJs(Napi::Env env, const Ukevent& ev, Queue& queue) {
  Napi::Object o = Napi::Object::New(env);
  if (ev.type == KEVENT_INODE) o.Set("id", Napi::String::New(env, queue.PathOf(ev.id)));
  else o.Set("id", Napi::Number::New(env, static_cast<double>(ev.id)));
  o.Set("type", Napi::Number::New(env, ev.type));
  o.Set("event", Napi::Number::New(env, ev.event));
  o.Set("reqFlags", Napi::Number::New(env, ev.req_flags));
  o.Set("retFlags", Napi::Number::New(env, ev.ret_flags));
  o.Set("retData", Napi::Number::New(env, static_cast<double>(ev.ret_data)));
  o.Set("user", UserToJs(env, ev));
  if (ev.ret_flags & KEVENT_RET_BROKEN) {
    o.Set("errno", Napi::Number::New(env, -static_cast<int>(ev.err)));
    o.Set("code", Napi::String::New(env, ErrnoName(static_cast<int>(ev.err))));
  }
  return o;
}

}  // namespace kevent::addon
