#include "listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace kserver {
using kevent::Status;
using kevent::UniqueFd;

namespace {

Status OpenOne(const addrinfo& ai, int backlog, bool reuse_port, UniqueFd* out) {
  UniqueFd fd(socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol));
  if (!fd.valid()) return Status::Errno(errno, "socket");
  int one = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return Status::Errno(errno, "setsockopt");
  if (reuse_port && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    return Status::Errno(errno, "setsockopt");
  if (bind(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) return Status::Errno(errno, "bind");
  if (listen(fd.get(), backlog) != 0) return Status::Errno(errno, "listen");
  *out = std::move(fd);
  return Status::Ok();
}

void SetPort(sockaddr* sa, int port) {
  if (sa->sa_family == AF_INET) reinterpret_cast<sockaddr_in*>(sa)->sin_port = htons(static_cast<uint16_t>(port));
  else if (sa->sa_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(sa)->sin6_port = htons(static_cast<uint16_t>(port));
}

}  // namespace

int BoundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return -1;
}

Status OpenListeners(const std::string& host, int port, int backlog, bool reuse_port, int count,
                     std::vector<UniqueFd>* out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  int gai = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (gai != 0) return Status::Errno(gai == EAI_SYSTEM ? errno : EINVAL, "getaddrinfo", gai_strerror(gai));
  Status last = Status::Errno(EADDRNOTAVAIL, "bind");
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    out->clear();
    UniqueFd first;
    last = OpenOne(*ai, backlog, reuse_port, &first);
    if (!last.ok()) continue;
    // With port 0 the kernel chose one; the other SO_REUSEPORT sockets join it.
    SetPort(ai->ai_addr, BoundPort(first.get()));
    out->push_back(std::move(first));
    for (int i = 1; i < count && last.ok(); ++i) {
      UniqueFd next;
      last = OpenOne(*ai, backlog, reuse_port, &next);
      if (last.ok()) out->push_back(std::move(next));
    }
    if (last.ok()) break;
  }
  freeaddrinfo(res);
  if (!last.ok()) out->clear();
  return last;
}

}  // namespace kserver
