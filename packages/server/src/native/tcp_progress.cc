#include "tcp_progress.h"

// The kernel's own tcp_info: glibc's copy in <netinet/tcp.h> stops before tcpi_bytes_acked,
// and the two headers cannot share a translation unit.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace kserver {

bool TcpBytesAcked(int fd, uint64_t* acked) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return false;
  // An older kernel fills a shorter struct.
  if (len < offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked) return false;
  *acked = info.tcpi_bytes_acked;
  return true;
}

}  // namespace kserver
