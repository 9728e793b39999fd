#include "herd_acceptors.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

namespace herd_bench {

using kevent::Status;

namespace {
constexpr int kBacklog = 4096;  // clamped by net.core.somaxconn
}

const char* NameOf(Mode m) {
  switch (m) {
    case Mode::kWakeOne: return "wake-one";
    case Mode::kWakeAll: return "wake-all";
    case Mode::kReusePort: return "reuseport";
    case Mode::kAccept: return "accept";
  }
  return "?";
}

bool ParseMode(const char* name, Mode* m) {
  for (Mode c : {Mode::kWakeOne, Mode::kWakeAll, Mode::kReusePort, Mode::kAccept}) {
    if (std::strcmp(name, NameOf(c)) == 0) {
      *m = c;
      return true;
    }
  }
  return false;
}

void CloseAborting(int fd) {
  linger l{1, 0};
  if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0)
    std::fprintf(stderr, "herd_bench: SO_LINGER: %s\n", std::strerror(errno));
  ::close(fd);
}

void PinTo(const std::vector<int>& cpus) {
  if (cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    std::fprintf(stderr, "herd_bench: sched_setaffinity: %s\n", std::strerror(errno));
}

AcceptorSet::AcceptorSet(Mode mode, size_t threads, size_t stalled, const std::vector<int>& cpus)
    : mode_(mode), cpus_(cpus) {
  for (size_t i = 0; i < threads; ++i) {
    acceptors_.push_back(std::make_unique<Acceptor>());
    // The last threads stall: with LIFO wake-one the first ones to park are the least used.
    acceptors_.back()->stalled = i + stalled >= threads;
  }
}

Status AcceptorSet::OpenListener(bool reuse_port, bool nonblocking, kevent::UniqueFd* out) {
  kevent::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0));
  if (!fd.valid()) return Status::Errno(errno, "socket");
  const int one = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return Status::Errno(errno, "SO_REUSEADDR");
  if (reuse_port && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    return Status::Errno(errno, "SO_REUSEPORT");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port_);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return Status::Errno(errno, "bind");
  if (::listen(fd.get(), kBacklog) != 0) return Status::Errno(errno, "listen");
  socklen_t len = sizeof addr;
  if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return Status::Errno(errno, "getsockname");
  port_ = ntohs(addr.sin_port);
  *out = std::move(fd);
  return Status::Ok();
}

Status AcceptorSet::Start() {
  started_ = true;
  Status s;
  if (mode_ == Mode::kReusePort) {
    for (auto& a : acceptors_)
      if (!(s = OpenListener(true, true, &a->own_socket)).ok()) return s;
  } else if (!(s = OpenListener(false, mode_ != Mode::kAccept, &shared_)).ok()) {
    return s;
  }
  for (auto& a : acceptors_) {
    if (mode_ != Mode::kAccept) {
      a->queue = kevent::Queue::Create(&s);
      if (!s.ok()) return s;
      kevent::Ukevent ev;
      ev.id = static_cast<uint64_t>(a->own_socket.valid() ? a->own_socket.get() : shared_.get());
      ev.type = kevent::KEVENT_SOCKET;
      ev.event = kevent::KEVENT_SOCKET_ACCEPT;
      // ALWAYS_QUEUE: register even if a connection is already waiting (epoll's behaviour).
      ev.req_flags = kevent::KEVENT_REQ_ALWAYS_QUEUE | (mode_ == Mode::kWakeAll ? kevent::KEVENT_REQ_WAKEUP_ALL : 0);
      a->queue->Ctl(kevent::KEVENT_CTL_ADD, &ev, nullptr, 1, &s);
      if (!s.ok()) return s;
      if (ev.ret_flags & kevent::KEVENT_RET_BROKEN) return Status::Errno(static_cast<int>(ev.err), "kevent_ctl ADD");
    }
    Acceptor* raw = a.get();
    const int lfd = a->own_socket.valid() ? a->own_socket.get() : shared_.get();
    a->thread = std::thread([this, raw, lfd] {
      Pin();
      raw->tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
      ready_.fetch_add(1);
      if (raw->stalled) {
        while (!stop_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      } else if (mode_ == Mode::kAccept) {
        RunBlocking(raw);
      } else {
        RunQueue(raw, lfd);
      }
    });
  }
  while (ready_.load() < acceptors_.size()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status::Ok();
}

void AcceptorSet::Pin() const { PinTo(cpus_); }

void AcceptorSet::RunQueue(Acceptor* a, int lfd) {
  std::vector<kevent::Ukevent> out;
  while (!stop_.load()) {
    out.clear();
    Status s;
    a->queue->GetEvents(1, 64, -1, 0, &out, &s);
    if (!s.ok()) {
      if (s.err == EINTR) continue;
      if (s.err != EBADF || !stop_.load()) a->failed.store(true);  // EBADF: Stop() closed the queue
      return;
    }
    for (bool first = true;; first = false) {
      const int c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c >= 0) {
        CloseAborting(c);
        a->accepted.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (first) a->eagain.fetch_add(1, std::memory_order_relaxed);
      } else {
        std::fprintf(stderr, "herd_bench: accept4: %s\n", std::strerror(errno));
        a->failed.store(true);
      }
      break;
    }
  }
}

void AcceptorSet::RunBlocking(Acceptor* a) {
  for (;;) {
    const int c = ::accept4(shared_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) {
      CloseAborting(c);
      a->accepted.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    // Stop() shuts the socket down, which fails every blocked accept() with EINVAL.
    if (!stop_.load()) {
      std::fprintf(stderr, "herd_bench: accept4: %s\n", std::strerror(errno));
      a->failed.store(true);
    }
    return;
  }
}

void AcceptorSet::Stop() {
  if (!started_) return;
  started_ = false;
  stop_.store(true);
  if (shared_.valid() && mode_ == Mode::kAccept && ::shutdown(shared_.get(), SHUT_RDWR) != 0)
    std::fprintf(stderr, "herd_bench: shutdown: %s\n", std::strerror(errno));
  for (auto& a : acceptors_)
    if (a->queue) a->queue->Close();
  for (auto& a : acceptors_)
    if (a->thread.joinable()) a->thread.join();
}

uint64_t AcceptorSet::TotalAccepted() const {
  uint64_t n = 0;
  for (const auto& a : acceptors_) n += a->accepted.load();
  return n;
}

}  // namespace herd_bench
