// The listening sockets: one shared by every I/O thread (wake-one), or one SO_REUSEPORT
// socket per thread.
#pragma once
#include <string>
#include <vector>

#include "status.h"
#include "unique_fd.h"

namespace kserver {

// Binds `count` sockets to host:port (count > 1 needs reuse_port); port 0 picks one port for
// all. Non-blocking, close-on-exec, SO_REUSEADDR.
kevent::Status OpenListeners(const std::string& host, int port, int backlog, bool reuse_port, int count,
                             std::vector<kevent::UniqueFd>* out);
int BoundPort(int fd);

}  // namespace kserver
