// How far a peer has read: the send timeout's measure while the aio pool, not the I/O
// thread, moves a file body to the socket.
#pragma once
#include <cstdint>

namespace kserver {

// Bytes of this TCP socket's output the peer has acknowledged (tcpi_bytes_acked, Linux 4.1+).
// False when the kernel cannot tell; the caller then has no progress to go by.
bool TcpBytesAcked(int fd, uint64_t* acked);

}  // namespace kserver
