// The accepting side of the thundering-herd bench: N threads taking connections off one port
// in one of four ways, each counting what it accepted and how often it woke for nothing.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "queue.h"
#include "status.h"
#include "unique_fd.h"

namespace herd_bench {

enum class Mode {
  kWakeOne,    // a kevent::Queue per thread, all holding one listening socket (EPOLLEXCLUSIVE)
  kWakeAll,    // the same with KEVENT_REQ_WAKEUP_ALL
  kReusePort,  // a SO_REUSEPORT socket and a queue per thread: the kernel picks by 4-tuple hash
  kAccept,     // threads blocked in accept() on one blocking socket
};

const char* NameOf(Mode m);
bool ParseMode(const char* name, Mode* m);

struct Acceptor {
  std::atomic<pid_t> tid{0};
  std::atomic<uint64_t> accepted{0};
  // Wakeups whose first accept() found the backlog already emptied by another thread (the
  // EAGAIN that ends every drain is not counted: it says nothing about the herd).
  std::atomic<uint64_t> eagain{0};
  std::atomic<bool> failed{false};
  bool stalled = false;  // registered but never accepts: a thread stuck in other work
  std::shared_ptr<kevent::Queue> queue;
  kevent::UniqueFd own_socket;  // reuseport only
  std::thread thread;
};

// Threads of one run. Start() returns once every thread is parked (or about to park) on its
// socket; Stop() wakes and joins them all.
class AcceptorSet {
 public:
  AcceptorSet(Mode mode, size_t threads, size_t stalled, const std::vector<int>& cpus);
  ~AcceptorSet() { Stop(); }
  AcceptorSet(const AcceptorSet&) = delete;
  AcceptorSet& operator=(const AcceptorSet&) = delete;

  kevent::Status Start();
  void Stop();
  uint16_t port() const { return port_; }
  const std::vector<std::unique_ptr<Acceptor>>& acceptors() const { return acceptors_; }
  uint64_t TotalAccepted() const;

 private:
  kevent::Status OpenListener(bool reuse_port, bool nonblocking, kevent::UniqueFd* out);
  void RunQueue(Acceptor* a, int lfd);
  void RunBlocking(Acceptor* a);
  void Pin() const;

  Mode mode_;
  std::vector<int> cpus_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  kevent::UniqueFd shared_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> ready_{0};
  bool started_ = false;
};

// Closes an accepted connection with an RST, so neither side keeps a TIME_WAIT entry and a
// saturating run does not run out of ephemeral ports.
void CloseAborting(int fd);
void PinTo(const std::vector<int>& cpus);

}  // namespace herd_bench
