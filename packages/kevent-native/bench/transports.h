// The connections the events bench drives: each is a read end (the reader's) and a write end
// (the writer's), over TCP loopback, an AF_UNIX socketpair or a pipe.
#pragma once
#include <string>
#include <vector>

#include "status.h"
#include "unique_fd.h"

namespace events_bench {

enum class Transport { kTcp, kUnix, kPipe };

struct Channel {
  kevent::UniqueFd read_end;
  kevent::UniqueFd write_end;
};

const char* NameOf(Transport t);
bool ParseTransport(const std::string& name, Transport* out);

// Opens `count` channels; read ends start non-blocking, write ends stay non-blocking so a
// full buffer never parks the writer (the blocking reader row could otherwise deadlock).
kevent::Status OpenChannels(Transport t, size_t count, std::vector<Channel>* out);

// Switches every read end between blocking (the no-event-mechanism row) and non-blocking.
kevent::Status SetReadBlocking(std::vector<Channel>& channels, bool blocking);

// Reads whatever is left on every read end, so one row's bytes never count in the next.
void DrainAll(std::vector<Channel>& channels);

}  // namespace events_bench
