#include "readers.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "queue.h"

namespace events_bench {
namespace {

using kevent::Status;
using kevent::UniqueFd;

constexpr int kMaxEvents = 1024;    // epoll_bench's batch
constexpr size_t kReadBytes = 1024;
constexpr int kPollMs = 50;         // how often a reader looks at `stop` when idle

// Reads one ready connection: returns 1 if it had data. Edge-triggered readiness is only
// reported again after the buffer was emptied, so a full read is followed by another.
Status ReadReady(int fd, bool edge, uint64_t* reads) {
  char buf[kReadBytes];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      if (static_cast<size_t>(n) == sizeof buf && edge) continue;
      ++*reads;
      return Status::Ok();
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return Status::Errno(errno, "read");
    return Status::Ok();  // EAGAIN: another wakeup already took the bytes
  }
}

class EpollReader : public Reader {
 public:
  EpollReader(UniqueFd epfd, bool edge) : epfd_(std::move(epfd)), edge_(edge) {}

  Status Run(const std::atomic<bool>& stop, std::atomic<uint64_t>* reads) override {
    epoll_event events[kMaxEvents];
    uint64_t count = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const int n = epoll_wait(epfd_.get(), events, kMaxEvents, kPollMs);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::Errno(errno, "epoll_wait");
      }
      for (int i = 0; i < n; ++i) {
        Status s = ReadReady(events[i].data.fd, edge_, &count);
        if (!s.ok()) return s;
      }
      reads->store(count, std::memory_order_relaxed);
    }
    return Status::Ok();
  }

 private:
  UniqueFd epfd_;
  bool edge_;
};

class KeventReader : public Reader {
 public:
  KeventReader(std::shared_ptr<kevent::Queue> queue, bool edge) : queue_(std::move(queue)), edge_(edge) {}
  ~KeventReader() override { queue_->Close(); }

  Status Run(const std::atomic<bool>& stop, std::atomic<uint64_t>* reads) override {
    std::vector<kevent::Ukevent> events;
    events.reserve(kMaxEvents);
    uint64_t count = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      events.clear();
      Status s;
      if (queue_->GetEvents(1, kMaxEvents, kPollMs, 0, &events, &s) < 0) return s;
      for (const kevent::Ukevent& ev : events) {
        s = ReadReady(static_cast<int>(ev.id), edge_, &count);
        if (!s.ok()) return s;
      }
      reads->store(count, std::memory_order_relaxed);
    }
    return Status::Ok();
  }

 private:
  std::shared_ptr<kevent::Queue> queue_;
  bool edge_;
};

// "No event mechanism": visit every connection in turn and block in read until it has data.
class BlockingReader : public Reader {
 public:
  explicit BlockingReader(std::vector<int> fds) : fds_(std::move(fds)) {}

  Status Run(const std::atomic<bool>& stop, std::atomic<uint64_t>* reads) override {
    char buf[kReadBytes];
    uint64_t count = 0;
    for (size_t i = 0; !stop.load(std::memory_order_relaxed); i = (i + 1) % fds_.size()) {
      ssize_t n;
      do n = ::read(fds_[i], buf, sizeof buf); while (n < 0 && errno == EINTR);
      if (n < 0) return Status::Errno(errno, "read");
      if (n > 0) reads->store(++count, std::memory_order_relaxed);
    }
    return Status::Ok();
  }

 private:
  std::vector<int> fds_;
};

Status MakeEpoll(bool edge, std::vector<Channel>& channels, std::unique_ptr<Reader>* out) {
  UniqueFd epfd(epoll_create1(EPOLL_CLOEXEC));
  if (!epfd.valid()) return Status::Errno(errno, "epoll_create1");
  for (Channel& c : channels) {
    epoll_event e{};
    e.events = EPOLLIN | (edge ? static_cast<uint32_t>(EPOLLET) : 0u);
    e.data.fd = c.read_end.get();
    if (epoll_ctl(epfd.get(), EPOLL_CTL_ADD, c.read_end.get(), &e) != 0) return Status::Errno(errno, "epoll_ctl");
  }
  out->reset(new EpollReader(std::move(epfd), edge));
  return Status::Ok();
}

Status MakeKevent(bool edge, Transport t, std::vector<Channel>& channels, std::unique_ptr<Reader>* out) {
  Status s;
  std::shared_ptr<kevent::Queue> queue = kevent::Queue::Create(&s);
  if (!queue) return s;
  std::vector<kevent::Ukevent> adds(channels.size());
  for (size_t i = 0; i < channels.size(); ++i) {
    adds[i].id = static_cast<uint64_t>(channels[i].read_end.get());
    adds[i].type = t == Transport::kPipe ? kevent::KEVENT_PIPE : kevent::KEVENT_SOCKET;
    adds[i].event = kevent::KEVENT_SOCKET_RECV;
    // ALWAYS_QUEUE: register even an fd that is ready now, like epoll_ctl does.
    adds[i].req_flags = kevent::KEVENT_REQ_ALWAYS_QUEUE | (edge ? kevent::KEVENT_REQ_ET : 0u);
    adds[i].user = i;
  }
  if (queue->Ctl(kevent::KEVENT_CTL_ADD, adds.data(), nullptr, adds.size(), &s) < 0) return s;
  for (const kevent::Ukevent& ev : adds) {
    if (ev.ret_flags & kevent::KEVENT_RET_BROKEN) return Status::Errno(static_cast<int>(ev.err), "kevent_ctl");
  }
  out->reset(new KeventReader(std::move(queue), edge));
  return Status::Ok();
}

}  // namespace

const char* NameOf(Mechanism m) {
  switch (m) {
    case Mechanism::kEpollLt: return "epoll";
    case Mechanism::kEpollEt: return "epoll-et";
    case Mechanism::kKeventLt: return "kevent";
    case Mechanism::kKeventEt: return "kevent-et";
    case Mechanism::kBlocking: return "blocking";
  }
  return "?";
}

bool ParseMechanism(const std::string& name, Mechanism* out) {
  for (Mechanism m : {Mechanism::kEpollLt, Mechanism::kEpollEt, Mechanism::kKeventLt, Mechanism::kKeventEt,
                      Mechanism::kBlocking}) {
    if (name == NameOf(m)) {
      *out = m;
      return true;
    }
  }
  return false;
}

Status MakeReader(Mechanism m, Transport t, std::vector<Channel>& channels, std::unique_ptr<Reader>* out) {
  switch (m) {
    case Mechanism::kEpollLt: return MakeEpoll(false, channels, out);
    case Mechanism::kEpollEt: return MakeEpoll(true, channels, out);
    case Mechanism::kKeventLt: return MakeKevent(false, t, channels, out);
    case Mechanism::kKeventEt: return MakeKevent(true, t, channels, out);
    case Mechanism::kBlocking: {
      std::vector<int> fds;
      for (Channel& c : channels) fds.push_back(c.read_end.get());
      out->reset(new BlockingReader(std::move(fds)));
      return Status::Ok();
    }
  }
  return Status::Errno(EINVAL, "events_bench", "unknown mechanism");
}

}  // namespace events_bench
