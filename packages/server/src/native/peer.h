// The address of a connection's client, as the JS hook and the access log report it.
#pragma once
#include <string>

namespace kserver {

struct PeerAddress {
  std::string address;  // "127.0.0.1", "::1"; IPv4-mapped IPv6 shown as IPv4
  int port = 0;
  const char* family = "";  // "IPv4" or "IPv6", as node:net names them
};

// False (out left empty) when the socket has no peer any more (ENOTCONN) or is not inet.
bool GetPeerAddress(int fd, PeerAddress* out);

}  // namespace kserver
