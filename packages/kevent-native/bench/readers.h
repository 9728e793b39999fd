// The reader side of the events bench: one loop per event mechanism, each counting the reads
// that returned data (one per ready connection handled), as epoll_bench did.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "status.h"
#include "transports.h"

namespace events_bench {

enum class Mechanism { kEpollLt, kEpollEt, kKeventLt, kKeventEt, kBlocking };

const char* NameOf(Mechanism m);
bool ParseMechanism(const std::string& name, Mechanism* out);

class Reader {
 public:
  virtual ~Reader() = default;
  // Loops until `stop`; publishes its running count of reads in `reads` after every batch.
  virtual kevent::Status Run(const std::atomic<bool>& stop, std::atomic<uint64_t>* reads) = 0;
};

// Registers every read end with the mechanism (not timed). The blocking reader expects the
// read ends switched to blocking mode first, and a byte on every channel to leave its loop.
kevent::Status MakeReader(Mechanism m, Transport t, std::vector<Channel>& channels, std::unique_ptr<Reader>* out);

}  // namespace events_bench
