#include "peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace kserver {

bool GetPeerAddress(int fd, PeerAddress* out) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
  char buf[INET6_ADDRSTRLEN];
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    if (!inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) return false;
    out->address = buf;
    out->port = ntohs(sin->sin_port);
    out->family = "IPv4";
    return true;
  }
  if (ss.ss_family != AF_INET6) return false;
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  out->port = ntohs(sin6->sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
    if (!inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf, sizeof buf)) return false;
    out->family = "IPv4";
  } else {
    if (!inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf)) return false;
    out->family = "IPv6";
  }
  out->address = buf;
  return true;
}

}  // namespace kserver
