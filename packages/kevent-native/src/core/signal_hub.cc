#include "signal_hub.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <sched.h>

namespace kevent::signal_hub {
namespace {

constexpr int kMaxSignal = 65;       // _NSIG on Linux
constexpr int kMaxSubscribers = 64;  // per signal, across all queues

// Slots hold fd + 1 so that zero-initialised memory means "empty".
std::atomic<int> g_subscribers[kMaxSignal][kMaxSubscribers];
std::atomic<int> g_subscriber_count[kMaxSignal];
std::atomic<int> g_handlers_running{0};
struct sigaction g_previous[kMaxSignal];
std::mutex g_mutex;

void Handler(int signo, siginfo_t* info, void* context) {
  g_handlers_running.fetch_add(1, std::memory_order_acq_rel);
  const int saved_errno = errno;
  if (signo > 0 && signo < kMaxSignal) {
    for (auto& slot : g_subscribers[signo]) {
      const int fd = slot.load(std::memory_order_acquire) - 1;
      if (fd < 0) continue;
      const uint64_t one = 1;
      // A full eventfd counter (EAGAIN) already says "signalled"; nothing else can fail here.
      [[maybe_unused]] ssize_t r = ::write(fd, &one, sizeof one);
    }
    const struct sigaction& prev = g_previous[signo];
    if (prev.sa_flags & SA_SIGINFO) {
      if (prev.sa_sigaction) prev.sa_sigaction(signo, info, context);
    } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler) {
      prev.sa_handler(signo);
    }
  }
  errno = saved_errno;
  g_handlers_running.fetch_sub(1, std::memory_order_acq_rel);
}

bool Catchable(int signo) {
  // Faults must keep their default action, or a crash would loop forever in the handler.
  switch (signo) {
    case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL:
      return false;
    default:
      return signo > 0 && signo < kMaxSignal;
  }
}

}  // namespace

Status Subscribe(int signo, int eventfd_fd) {
  if (!Catchable(signo)) return Status::Errno(EINVAL, "sigaction", "signal cannot be delivered as an event");
  std::lock_guard<std::mutex> lock(g_mutex);
  std::atomic<int>* free_slot = nullptr;
  for (auto& slot : g_subscribers[signo]) {
    if (slot.load() == 0) { free_slot = &slot; break; }
  }
  if (!free_slot) return Status::Errno(ENOSPC, "sigaction", "too many queues wait for this signal");
  if (g_subscriber_count[signo].load() == 0) {
    struct sigaction action {};
    action.sa_sigaction = Handler;
    action.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    struct sigaction previous {};
    if (sigaction(signo, &action, &previous) != 0) return Status::Errno(errno, "sigaction");
    if (!(previous.sa_flags & SA_SIGINFO) || previous.sa_sigaction != Handler) g_previous[signo] = previous;
  }
  free_slot->store(eventfd_fd + 1, std::memory_order_release);
  g_subscriber_count[signo].fetch_add(1);
  return Status::Ok();
}

void Unsubscribe(int signo, int eventfd_fd) {
  if (signo <= 0 || signo >= kMaxSignal) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  for (auto& slot : g_subscribers[signo]) {
    int expected = eventfd_fd + 1;
    if (slot.compare_exchange_strong(expected, 0)) {
      if (g_subscriber_count[signo].fetch_sub(1) == 1) {
        struct sigaction current {};
        sigaction(signo, nullptr, &current);
        if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == Handler) {
          sigaction(signo, &g_previous[signo], nullptr);
        }
      }
      break;
    }
  }
  // A handler that loaded the slot before it was cleared may still be writing to the fd.
  while (g_handlers_running.load(std::memory_order_acquire) != 0) sched_yield();
}

}  // namespace kevent::signal_hub
