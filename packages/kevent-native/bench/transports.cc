#include "transports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace events_bench {
namespace {

using kevent::Status;
using kevent::UniqueFd;

Status SetNonBlocking(int fd, bool on) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return Status::Errno(errno, "fcntl");
  const int want = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (want != flags && fcntl(fd, F_SETFL, want) != 0) return Status::Errno(errno, "fcntl");
  return Status::Ok();
}

// One listener, as in epoll_bench: connect (blocking, so the handshake is done) then accept.
Status OpenTcp(size_t count, std::vector<Channel>* out) {
  UniqueFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.valid()) return Status::Errno(errno, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) return Status::Errno(errno, "bind");
  if (listen(listener.get(), 4096) != 0) return Status::Errno(errno, "listen");
  if (getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return Status::Errno(errno, "getsockname");
  for (size_t i = 0; i < count; ++i) {
    UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!client.valid()) return Status::Errno(errno, "socket");
    int r;
    do r = connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr); while (r != 0 && errno == EINTR);
    if (r != 0) return Status::Errno(errno, "connect");
    UniqueFd server(accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!server.valid()) return Status::Errno(errno, "accept4");
    // 1-byte writes must leave at once: with Nagle a second byte to the same connection waits
    // for the peer's (delayed) ACK, and the bench would measure that timer instead.
    int one = 1;
    if (setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
      return Status::Errno(errno, "setsockopt");
    Status s = SetNonBlocking(client.get(), true);
    if (!s.ok()) return s;
    out->push_back(Channel{std::move(server), std::move(client)});
  }
  return Status::Ok();
}

Status OpenPairs(Transport t, size_t count, std::vector<Channel>* out) {
  for (size_t i = 0; i < count; ++i) {
    int fds[2];
    if (t == Transport::kUnix) {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
        return Status::Errno(errno, "socketpair");
    } else if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
      return Status::Errno(errno, "pipe2");
    }
    out->push_back(Channel{UniqueFd(fds[0]), UniqueFd(fds[1])});
  }
  return Status::Ok();
}

}  // namespace

const char* NameOf(Transport t) {
  switch (t) {
    case Transport::kTcp: return "tcp";
    case Transport::kUnix: return "unix";
    case Transport::kPipe: return "pipe";
  }
  return "?";
}

bool ParseTransport(const std::string& name, Transport* out) {
  for (Transport t : {Transport::kTcp, Transport::kUnix, Transport::kPipe}) {
    if (name == NameOf(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

Status OpenChannels(Transport t, size_t count, std::vector<Channel>* out) {
  out->reserve(out->size() + count);
  return t == Transport::kTcp ? OpenTcp(count, out) : OpenPairs(t, count, out);
}

Status SetReadBlocking(std::vector<Channel>& channels, bool blocking) {
  for (Channel& c : channels) {
    Status s = SetNonBlocking(c.read_end.get(), !blocking);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

void DrainAll(std::vector<Channel>& channels) {
  char buf[4096];
  for (Channel& c : channels) {
    ssize_t n;
    do n = ::read(c.read_end.get(), buf, sizeof buf); while (n > 0 || (n < 0 && errno == EINTR));
  }
}

}  // namespace events_bench
