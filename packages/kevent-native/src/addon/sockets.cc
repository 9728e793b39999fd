#include "sockets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "errors.h"
#include "ukevent_js.h"
#include "unique_fd.h"

namespace kevent::addon {
namespace {

constexpr size_t kMaxIov = 1024;  // IOV_MAX on Linux

bool FdArg(Napi::Env env, Napi::Value v, int* fd) {
  double d;
  if (!IntegerArg(env, v, "fd", 0, 2147483647.0, &d)) return false;
  *fd = static_cast<int>(d);
  return true;
}

// A byte range of a Buffer/TypedArray argument.
bool BytesArg(Napi::Env env, Napi::Value v, char** data, size_t* len) {
  if (!v.IsTypedArray()) return ThrowType(env, "buffer must be a Buffer or Uint8Array"), false;
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  *data = static_cast<char*>(t.ArrayBuffer().Data()) + t.ByteOffset();
  *len = t.ByteLength();
  return true;
}

Napi::Object AddressToJs(Napi::Env env, const sockaddr_storage& ss) {
  Napi::Object o = Napi::Object::New(env);
  char text[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
    o.Set("family", "IPv4");
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
    o.Set("family", "IPv6");
  } else {
    o.Set("family", "unix");
  }
  o.Set("address", Napi::String::New(env, text));
  o.Set("port", Napi::Number::New(env, port));
  return o;
}

// Only numeric hosts (and "localhost"): name resolution would block the calling thread.
bool ResolveArg(Napi::Env env, const Napi::CallbackInfo& info, sockaddr_storage* ss, socklen_t* len) {
  if (!info[0].IsString()) return ThrowType(env, "host must be a string"), false;
  std::string host = info[0].As<Napi::String>().Utf8Value();
  double port;
  if (!IntegerArg(env, info[1], "port", 0, 65535, &port)) return false;
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  std::memset(ss, 0, sizeof *ss);
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof *v6;
    return true;
  }
  ErrnoError(env, EINVAL, "getaddrinfo", "host must be a numeric IPv4/IPv6 address or localhost").ThrowAsJavaScriptException();
  return false;
}

// Result of a non-blocking transfer: bytes, or null when it would block.
Napi::Value TransferResult(Napi::Env env, ssize_t n, const char* syscall) {
  if (n >= 0) return Napi::Number::New(env, static_cast<double>(n));
  if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
  return ThrowErrno(env, errno, syscall);
}

Napi::Value Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_storage ss;
  socklen_t len;
  if (!ResolveArg(env, info, &ss, &len)) return env.Undefined();
  double backlog = 65535;  // the kernel caps it at net.core.somaxconn
  bool reuse_port = false;
  if (info[2].IsObject()) {
    Napi::Object opts = info[2].As<Napi::Object>();
    if (opts.Has("backlog") && !opts.Get("backlog").IsUndefined() &&
        !IntegerArg(env, opts.Get("backlog"), "backlog", 1, 2147483647.0, &backlog))
      return env.Undefined();
    reuse_port = opts.Get("reusePort").ToBoolean();
  }
  UniqueFd fd(socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ThrowErrno(env, errno, "socket");
  int one = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return ThrowErrno(env, errno, "setsockopt");
  if (reuse_port && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    return ThrowErrno(env, errno, "setsockopt");
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return ThrowErrno(env, errno, "bind");
  if (listen(fd.get(), static_cast<int>(backlog)) != 0) return ThrowErrno(env, errno, "listen");
  return Napi::Number::New(env, fd.release());
}

Napi::Value Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_storage ss;
  socklen_t len;
  if (!ResolveArg(env, info, &ss, &len)) return env.Undefined();
  UniqueFd fd(socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ThrowErrno(env, errno, "socket");
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS)
    return ThrowErrno(env, errno, "connect");
  return Napi::Number::New(env, fd.release());
}

Napi::Value Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int lfd;
  if (!FdArg(env, info[0], &lfd)) return env.Undefined();
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int fd;
  do fd = accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
  if (fd < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    return ThrowErrno(env, errno, "accept4");
  }
  Napi::Object o = AddressToJs(env, ss);
  o.Set("fd", Napi::Number::New(env, fd));
  return o;
}

Napi::Value LocalAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!FdArg(env, info[0], &fd)) return env.Undefined();
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return ThrowErrno(env, errno, "getsockname");
  return AddressToJs(env, ss);
}

// recv/send/read/write: an fd and a byte range in, bytes (or null on EAGAIN) out.
template <typename Call>
Napi::Value TransferCall(const Napi::CallbackInfo& info, const char* syscall, Call call) {
  Napi::Env env = info.Env();
  int fd;
  char* data;
  size_t len;
  if (!FdArg(env, info[0], &fd) || !BytesArg(env, info[1], &data, &len)) return env.Undefined();
  ssize_t n;
  do n = call(fd, data, len); while (n < 0 && errno == EINTR);
  return TransferResult(env, n, syscall);
}

Napi::Value Recv(const Napi::CallbackInfo& info) {
  return TransferCall(info, "recv", [](int fd, char* d, size_t n) { return ::recv(fd, d, n, 0); });
}

Napi::Value Send(const Napi::CallbackInfo& info) {
  return TransferCall(info, "send", [](int fd, char* d, size_t n) { return ::send(fd, d, n, MSG_NOSIGNAL); });
}

Napi::Value Read(const Napi::CallbackInfo& info) {
  return TransferCall(info, "read", [](int fd, char* d, size_t n) { return ::read(fd, d, n); });
}

Napi::Value Write(const Napi::CallbackInfo& info) {
  return TransferCall(info, "write", [](int fd, char* d, size_t n) { return ::write(fd, d, n); });
}

Napi::Value Writev(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!FdArg(env, info[0], &fd)) return env.Undefined();
  if (!info[1].IsArray()) return ThrowType(env, "buffers must be an array");
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<iovec> iov(std::min<size_t>(list.Length(), kMaxIov));
  for (size_t i = 0; i < iov.size(); ++i) {
    char* data;
    size_t len;
    if (!BytesArg(env, list.Get(static_cast<uint32_t>(i)), &data, &len)) return env.Undefined();
    iov[i] = {data, len};
  }
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  ssize_t n;
  do n = ::sendmsg(fd, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0 && errno == ENOTSOCK) {
    do n = ::writev(fd, iov.data(), static_cast<int>(iov.size())); while (n < 0 && errno == EINTR);
    return TransferResult(env, n, "writev");
  }
  return TransferResult(env, n, "sendmsg");
}

Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!FdArg(env, info[0], &fd)) return env.Undefined();
  int how = SHUT_WR;
  if (info[1].IsString()) {
    std::string s = info[1].As<Napi::String>().Utf8Value();
    if (s == "read") how = SHUT_RD;
    else if (s == "write") how = SHUT_WR;
    else if (s == "both") how = SHUT_RDWR;
    else return ThrowType(env, "how must be 'read', 'write' or 'both'");
  }
  if (::shutdown(fd, how) != 0) return ThrowErrno(env, errno, "shutdown");
  return env.Undefined();
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!FdArg(env, info[0], &fd)) return env.Undefined();
  if (::close(fd) != 0 && errno != EINTR) return ThrowErrno(env, errno, "close");
  return env.Undefined();
}

Napi::Value SetIntOption(const Napi::CallbackInfo& info, int level, int name, const char* what) {
  Napi::Env env = info.Env();
  int fd;
  if (!FdArg(env, info[0], &fd)) return env.Undefined();
  int value = info[1].IsUndefined() ? 1 : (info[1].ToBoolean() ? 1 : 0);
  if (setsockopt(fd, level, name, &value, sizeof value) != 0) return ThrowErrno(env, errno, what);
  return env.Undefined();
}

Napi::Value SetNoDelay(const Napi::CallbackInfo& info) { return SetIntOption(info, IPPROTO_TCP, TCP_NODELAY, "setsockopt"); }
Napi::Value SetCork(const Napi::CallbackInfo& info) { return SetIntOption(info, IPPROTO_TCP, TCP_CORK, "setsockopt"); }

Napi::Value FdPair(Napi::Env env, int fds[2]) {
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, fds[0]));
  a.Set(1u, Napi::Number::New(env, fds[1]));
  return a;
}

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return ThrowErrno(info.Env(), errno, "pipe2");
  return FdPair(info.Env(), fds);
}

Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
    return ThrowErrno(info.Env(), errno, "socketpair");
  return FdPair(info.Env(), fds);
}

}  // namespace

void DefineSocketCalls(Napi::Env env, Napi::Object exports) {
  exports.Set("listen", Napi::Function::New<Listen>(env, "listen"));
  exports.Set("connect", Napi::Function::New<Connect>(env, "connect"));
  exports.Set("accept", Napi::Function::New<Accept>(env, "accept"));
  exports.Set("localAddress", Napi::Function::New<LocalAddress>(env, "localAddress"));
  exports.Set("recv", Napi::Function::New<Recv>(env, "recv"));
  exports.Set("send", Napi::Function::New<Send>(env, "send"));
  exports.Set("read", Napi::Function::New<Read>(env, "read"));
  exports.Set("write", Napi::Function::New<Write>(env, "write"));
  exports.Set("writev", Napi::Function::New<Writev>(env, "writev"));
  exports.Set("shutdown", Napi::Function::New<Shutdown>(env, "shutdown"));
  exports.Set("close", Napi::Function::New<Close>(env, "close"));
  exports.Set("setNoDelay", Napi::Function::New<SetNoDelay>(env, "setNoDelay"));
  exports.Set("setCork", Napi::Function::New<SetCork>(env, "setCork"));
  exports.Set("pipe", Napi::Function::New<Pipe>(env, "pipe"));
  exports.Set("socketpair", Napi::Function::New<SocketPair>(env, "socketpair"));
}

}  // namespace kevent::addon
