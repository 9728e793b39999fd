#include "queue.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "signal_hub.h"

namespace kevent {
namespace {

// epoll_event.data.u64: what became ready.
constexpr uint64_t kTagWake = 1;
constexpr uint64_t kTagInotify = 2;
constexpr uint64_t kTagFd = 1ull << 62;      // | fd of a socket/pipe/poll registration
constexpr uint64_t kTagSerial = 2ull << 62;  // | serial of a registration owning its fd
constexpr uint64_t kTagMask = 3ull << 62;

constexpr uint32_t kPollBits = POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLNVAL | POLLRDNORM |
                               POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLMSG | POLLRDHUP;
constexpr uint32_t kSocketBits = KEVENT_SOCKET_RECV | KEVENT_SOCKET_ACCEPT | KEVENT_SOCKET_SEND;
// epoll refuses EPOLLEXCLUSIVE with any other interest bits.
constexpr uint32_t kExclusiveOk = EPOLLIN | EPOLLOUT;

bool IsFdType(uint32_t type) { return type == KEVENT_SOCKET || type == KEVENT_PIPE || type == KEVENT_POLL; }
bool IsTimerType(uint32_t type) { return type == KEVENT_TIMER || type == KEVENT_POSIX_TIMER; }

bool EventBitsValid(uint32_t type, uint32_t event) {
  if (event == 0) return false;
  switch (type) {
    case KEVENT_SOCKET: return (event & ~kSocketBits) == 0;
    case KEVENT_PIPE: return (event & ~(KEVENT_SOCKET_RECV | KEVENT_SOCKET_SEND)) == 0;
    case KEVENT_POLL: return (event & ~(kPollBits | 0x1000u)) == 0;
    case KEVENT_TIMER:
    case KEVENT_POSIX_TIMER: return event == KEVENT_TIMER_FIRED;
    case KEVENT_INODE: return (event & ~(KEVENT_INODE_CREATE | KEVENT_INODE_REMOVE | KEVENT_INODE_MODIFY)) == 0;
    case KEVENT_SIGNAL: return event == KEVENT_SIGNAL_DELIVERY;
    case KEVENT_USER: return true;
    default: return false;
  }
}

// Interest bits for epoll (POLL* and EPOLL* share values on Linux).
uint32_t InterestOf(const Ukevent& uk) {
  if (uk.type == KEVENT_POLL) return uk.event & (kPollBits & ~(POLLERR | POLLHUP | POLLNVAL));
  uint32_t mask = 0;
  if (uk.event & (KEVENT_SOCKET_RECV | KEVENT_SOCKET_ACCEPT)) mask |= EPOLLIN | EPOLLRDHUP;
  if (uk.event & KEVENT_SOCKET_SEND) mask |= EPOLLOUT;
  return mask;
}

// Which of the registration's events `revents` satisfies.
uint32_t Matched(const Ukevent& uk, uint32_t revents) {
  if (uk.type == KEVENT_POLL) return revents & (uk.event | POLLERR | POLLHUP | POLLNVAL);
  uint32_t m = 0;
  if ((uk.event & KEVENT_SOCKET_RECV) && (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) m |= KEVENT_SOCKET_RECV;
  if ((uk.event & KEVENT_SOCKET_ACCEPT) && (revents & (EPOLLIN | EPOLLERR))) m |= KEVENT_SOCKET_ACCEPT;
  if ((uk.event & KEVENT_SOCKET_SEND) && (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))) m |= KEVENT_SOCKET_SEND;
  return m;
}

uint32_t PollNow(int fd, uint32_t interest) {
  pollfd p{fd, static_cast<short>(interest & 0xffff), 0};
  int r;
  do r = ::poll(&p, 1, 0); while (r < 0 && errno == EINTR);
  return r > 0 ? static_cast<uint16_t>(p.revents) : 0;
}

int64_t NowMs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

timespec MsToTimespec(uint64_t ms) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ms / 1000);
  ts.tv_nsec = static_cast<long>((ms % 1000) * 1000000);
  return ts;
}

// Deadline on CLOCK_MONOTONIC in ms, or -1 for "forever".
int64_t DeadlineOf(int64_t timeout_ms, uint32_t flags) {
  if (timeout_ms < 0) return -1;
  if (flags & KEVENT_FLAGS_ABSTIME) return NowMs(CLOCK_MONOTONIC) + std::max<int64_t>(0, timeout_ms - NowMs(CLOCK_REALTIME));
  return NowMs(CLOCK_MONOTONIC) + timeout_ms;
}

int RemainingMs(int64_t deadline) {
  if (deadline < 0) return -1;
  int64_t left = deadline - NowMs(CLOCK_MONOTONIC);
  if (left <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(left, INT_MAX));
}

int SocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return 0;
  return err;
}

}  // namespace

namespace {
// A KEVENT_INODE directory: one pointer in the registrations of every other type, which have
// none. Reads as a (possibly empty) std::string.
class OptionalPath {
 public:
  OptionalPath& operator=(const std::string& path) {
    if (path.empty()) s_.reset();
    else s_ = std::make_unique<std::string>(path);
    return *this;
  }
  operator const std::string&() const { return s_ ? *s_ : Empty(); }
  const char* c_str() const { return s_ ? s_->c_str() : ""; }

 private:
  static const std::string& Empty() {
    static const std::string empty;
    return empty;
  }
  std::unique_ptr<std::string> s_;
};
}  // namespace

struct Queue::Registration {
  Ukevent uk;          // the request as added: type, id, event, req_flags, user, aux
  OptionalPath path;   // KEVENT_INODE directory
  uint64_t serial = 0;
  int fd = -1;         // watched fd of a socket/pipe/poll request
  UniqueFd owned;      // timerfd or (signals) eventfd
};

size_t Queue::KeyHash::operator()(const Key& k) const noexcept {
  size_t h = std::hash<uint64_t>()(k.id) * 31 + k.type;
  h = h * 1000003 ^ std::hash<uint64_t>()(k.user);
  if (k.path && !k.path->empty()) h ^= std::hash<std::string>()(*k.path);
  return h;
}

void Queue::RegList::push_back(Registration* reg) {
  if (size_ == 0 && cap_ == 1) {
    one_ = reg;
    size_ = 1;
    return;
  }
  if (size_ == cap_) {
    const uint32_t cap = cap_ * 2;
    Registration** grown = new Registration*[cap];
    std::copy(begin(), end(), grown);
    if (cap_ > 1) delete[] many_;
    many_ = grown;
    cap_ = cap;
  }
  many_[size_++] = reg;
}

void Queue::RegList::remove(Registration* reg) {
  Registration** items = cap_ > 1 ? many_ : &one_;
  size_ = static_cast<uint32_t>(std::remove(items, items + size_, reg) - items);
}

std::shared_ptr<Queue> Queue::Create(Status* status) {
  std::shared_ptr<Queue> q(new Queue());
  *status = q->Init();
  if (!status->ok()) return nullptr;
  return q;
}

Status Queue::Init() {
  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) return Status::Errno(errno, "epoll_create1");
  wake_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_.valid()) return Status::Errno(errno, "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kTagWake;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) != 0) return Status::Errno(errno, "epoll_ctl");
  return Status::Ok();
}

Queue::~Queue() { Close(); }

Status Queue::AttachRing(void* memory, size_t bytes, uint32_t slots) {
  if (slots == 0 || slots > (1u << 24)) return Status::Errno(EINVAL, "kevent_init", "ring size must be 1 .. 16777216 events");
  if (bytes < kRingHeaderBytes + static_cast<size_t>(slots) * kRingSlotBytes)
    return Status::Errno(EINVAL, "kevent_init", "ring memory is smaller than its slots");
  if (reinterpret_cast<uintptr_t>(memory) % 8 != 0) return Status::Errno(EINVAL, "kevent_init", "ring memory must be 8-byte aligned");
  std::lock_guard<std::mutex> lock(mu_);
  ring_ = static_cast<RingHeader*>(memory);
  std::memset(ring_, 0, kRingHeaderBytes);
  ring_->size = static_cast<int32_t>(slots);
  slots_ = reinterpret_cast<Ukevent*>(static_cast<char*>(memory) + kRingHeaderBytes);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// kevent_ctl

int Queue::Ctl(uint32_t cmd, Ukevent* events, const std::string* paths, size_t count, Status* status) {
  if (cmd > KEVENT_CTL_READY) {
    *status = Status::Errno(EINVAL, "kevent_ctl", "unknown command");
    return -1;
  }
  static const std::string kNoPath;
  std::lock_guard<std::mutex> lock(mu_);
  if (closed()) {
    *status = Status::Errno(EBADF, "kevent_ctl", "queue is closed");
    return -1;
  }
  if (cmd == KEVENT_CTL_READY && count == 0) {
    ++wakeups_owed_;
    RefreshWake();
    return 0;
  }
  for (size_t i = 0; i < count; ++i) {
    Ukevent& ev = events[i];
    const std::string& path = paths ? paths[i] : kNoPath;
    ev.ret_flags = 0;
    ev.err = 0;
    switch (cmd) {
      case KEVENT_CTL_ADD: Add(ev, path); break;
      case KEVENT_CTL_REMOVE: Remove(ev, path); break;
      case KEVENT_CTL_MODIFY: Modify(ev, path); break;
      case KEVENT_CTL_READY: MarkReady(ev, path); break;
    }
  }
  return static_cast<int>(count);
}

Queue::Key Queue::KeyOf(const Ukevent& ev, const std::string& path) const {
  if (ev.type == KEVENT_INODE) return Key{ev.type, 0, ev.user, &path};
  return Key{ev.type, ev.id, ev.user, nullptr};
}

Queue::Registration* Queue::Find(const Ukevent& ev, const std::string& path) {
  if (IsFdType(ev.type)) {
    if (ev.id > INT_MAX) return nullptr;
    auto it = fd_watches_.find(static_cast<int>(ev.id));
    if (it == fd_watches_.end()) return nullptr;
    for (Registration* reg : it->second.regs)
      if (reg->uk.type == ev.type && reg->uk.user == ev.user) return reg;
    return nullptr;
  }
  auto it = regs_.find(KeyOf(ev, path));
  return it == regs_.end() ? nullptr : it->second;
}

static void Break(Ukevent& ev, int err) {
  ev.ret_flags |= KEVENT_RET_BROKEN | KEVENT_RET_DONE;
  ev.err = static_cast<uint32_t>(err);
}

void Queue::Add(Ukevent& ev, const std::string& path) {
  if (ev.type >= KEVENT_MAX || ev.type == KEVENT_NAIO || ev.type == KEVENT_AIO) return Break(ev, ENOSYS);
  if ((ev.req_flags & ~KEVENT_REQ_ALL) || !EventBitsValid(ev.type, ev.event)) return Break(ev, EINVAL);
  if (ev.type == KEVENT_INODE && path.empty()) return Break(ev, EINVAL);
  if (Find(ev, path)) return Break(ev, EEXIST);

  auto reg = std::make_unique<Registration>();
  reg->uk = ev;
  reg->path = path;
  reg->serial = next_serial_++;

  // The seed: a request that is ready at enqueue time comes straight back (RET_DONE) and is
  // not queued, unless KEVENT_REQ_ALWAYS_QUEUE (or REQ_READY) asks to queue it anyway.
  if (IsFdType(ev.type) && !(ev.req_flags & (KEVENT_REQ_ALWAYS_QUEUE | KEVENT_REQ_READY))) {
    struct stat st {};
    if (ev.id > INT_MAX || fstat(static_cast<int>(ev.id), &st) != 0) return Break(ev, EBADF);
    uint32_t revents = PollNow(static_cast<int>(ev.id), InterestOf(ev));
    if (uint32_t m = Matched(ev, revents)) {
      if ((ev.type == KEVENT_SOCKET && !S_ISSOCK(st.st_mode)) || (ev.type == KEVENT_PIPE && !S_ISFIFO(st.st_mode)))
        return Break(ev, ev.type == KEVENT_SOCKET ? ENOTSOCK : EINVAL);
      ev.event = m;
      ev.ret_data = revents;
      ev.ret_flags |= KEVENT_RET_DONE;
      return;
    }
  }

  Status s;
  if (IsFdType(ev.type)) s = AddFdRegistration(*reg);
  else if (IsTimerType(ev.type)) s = AddTimer(*reg);
  else if (ev.type == KEVENT_SIGNAL) s = AddSignal(*reg);
  else if (ev.type == KEVENT_INODE) s = AddInode(*reg);
  if (!s.ok()) return Break(ev, s.err);

  Registration* raw = reg.get();
  by_serial_.emplace(raw->serial, std::move(reg));
  if (!IsFdType(ev.type)) regs_.emplace(KeyOf(raw->uk, raw->path), raw);  // the key points at raw's own path
  ev.id = raw->uk.id;
  if (ev.req_flags & KEVENT_REQ_READY) {
    Ukevent ready = raw->uk;
    ready.ret_flags = KEVENT_RET_DONE;
    PushPending(ready, raw->serial);
  }
}

Status Queue::AddFdRegistration(Registration& reg) {
  if (reg.uk.id > INT_MAX) return Status::Errno(EBADF, "kevent_ctl");
  const int fd = static_cast<int>(reg.uk.id);
  struct stat st {};
  if (fstat(fd, &st) != 0) return Status::Errno(errno, "fstat");
  if (reg.uk.type == KEVENT_SOCKET && !S_ISSOCK(st.st_mode)) return Status::Errno(ENOTSOCK, "kevent_ctl");
  if (reg.uk.type == KEVENT_PIPE && !S_ISFIFO(st.st_mode)) return Status::Errno(EINVAL, "kevent_ctl", "not a pipe");
  FdWatch& w = fd_watches_[fd];
  const bool et = reg.uk.req_flags & KEVENT_REQ_ET;
  for (Registration* other : w.regs) {
    // epoll has one trigger mode per fd and queue.
    if (static_cast<bool>(other->uk.req_flags & KEVENT_REQ_ET) != et)
      return Status::Errno(EINVAL, "kevent_ctl", "edge- and level-triggered requests cannot share one fd in a queue");
  }
  reg.fd = fd;
  w.regs.push_back(&reg);
  Status s = SyncWatch(fd, false);
  if (!s.ok()) {
    auto it = fd_watches_.find(fd);
    if (it != fd_watches_.end()) {
      it->second.regs.remove(&reg);
      if (it->second.regs.empty() && it->second.armed == 0) fd_watches_.erase(it);
    }
  }
  return s;
}

Status Queue::SyncWatch(int fd, bool rearm) {
  auto it = fd_watches_.find(fd);
  if (it == fd_watches_.end()) return Status::Ok();
  FdWatch& w = it->second;
  uint32_t want = 0;
  if (!w.regs.empty()) {
    uint32_t interest = 0;
    bool all_et = true, all_oneshot = true, any_wake_all = false;
    for (Registration* r : w.regs) {
      interest |= InterestOf(r->uk);
      all_et &= static_cast<bool>(r->uk.req_flags & KEVENT_REQ_ET);
      all_oneshot &= static_cast<bool>(r->uk.req_flags & KEVENT_REQ_ONESHOT);
      any_wake_all |= static_cast<bool>(r->uk.req_flags & KEVENT_REQ_WAKEUP_ALL);
    }
    // Wake-one (the seed's default) is EPOLLEXCLUSIVE: of all queues holding this fd, the
    // kernel wakes one waiter per event instead of every one.
    const uint32_t exclusive_interest = interest & ~static_cast<uint32_t>(EPOLLRDHUP);
    const bool exclusive = !any_wake_all && !all_oneshot && (exclusive_interest & ~kExclusiveOk) == 0;
    want = exclusive ? exclusive_interest | static_cast<uint32_t>(EPOLLEXCLUSIVE) : interest;
    if (all_et) want |= static_cast<uint32_t>(EPOLLET);
    if (all_oneshot) want |= static_cast<uint32_t>(EPOLLONESHOT);
  }
  if (want == w.armed && !rearm) return Status::Ok();
  epoll_event e{};
  e.events = want;
  e.data.u64 = kTagFd | static_cast<uint32_t>(fd);
  if (want == 0) {
    // EBADF/ENOENT: the fd was closed, which already removed it from the epoll set.
    if (w.armed) epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    fd_watches_.erase(it);
    return Status::Ok();
  }
  int r;
  if (w.armed == 0) {
    r = epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &e);
  } else if ((w.armed | want) & EPOLLEXCLUSIVE) {
    // EPOLLEXCLUSIVE registrations cannot be modified, only replaced.
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    r = epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &e);
  } else {
    r = epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &e);
    if (r != 0 && errno == ENOENT) r = epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &e);
  }
  if (r != 0) {
    const int err = errno;
    w.armed = 0;
    return Status::Errno(err, "epoll_ctl");
  }
  w.armed = want;
  return Status::Ok();
}

Status Queue::AddTimer(Registration& reg) {
  const bool abstime = reg.uk.aux & AUX_ABSTIME;
  if (!abstime && reg.uk.id == 0) return Status::Errno(EINVAL, "timerfd_settime", "timer period must be > 0 ms");
  const clockid_t clock = (abstime || reg.uk.type == KEVENT_POSIX_TIMER) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
  reg.owned.reset(timerfd_create(clock, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!reg.owned.valid()) return Status::Errno(errno, "timerfd_create");
  itimerspec spec{};
  spec.it_value = MsToTimespec(reg.uk.id);
  if (!abstime && !(reg.uk.req_flags & KEVENT_REQ_ONESHOT)) spec.it_interval = spec.it_value;
  if (abstime && reg.uk.id == 0) spec.it_value.tv_nsec = 1;  // "the epoch": already due; 0 would disarm
  if (timerfd_settime(reg.owned.get(), abstime ? TFD_TIMER_ABSTIME : 0, &spec, nullptr) != 0)
    return Status::Errno(errno, "timerfd_settime");
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = kTagSerial | reg.serial;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, reg.owned.get(), &e) != 0) return Status::Errno(errno, "epoll_ctl");
  return Status::Ok();
}

Status Queue::AddSignal(Registration& reg) {
  if (reg.uk.id == 0 || reg.uk.id >= 65) return Status::Errno(EINVAL, "sigaction", "not a signal number");
  reg.owned.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!reg.owned.valid()) return Status::Errno(errno, "eventfd");
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = kTagSerial | reg.serial;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, reg.owned.get(), &e) != 0) return Status::Errno(errno, "epoll_ctl");
  return signal_hub::Subscribe(static_cast<int>(reg.uk.id), reg.owned.get());
}

Status Queue::AddInode(Registration& reg) {
  if (!inotify_.valid()) {
    UniqueFd fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd.valid()) return Status::Errno(errno, "inotify_init1");
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u64 = kTagInotify;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &e) != 0) return Status::Errno(errno, "epoll_ctl");
    inotify_ = std::move(fd);
  }
  uint32_t mask = IN_MASK_ADD | IN_DELETE_SELF | IN_MOVE_SELF;
  if (reg.uk.event & KEVENT_INODE_CREATE) mask |= IN_CREATE | IN_MOVED_TO;
  if (reg.uk.event & KEVENT_INODE_REMOVE) mask |= IN_DELETE | IN_MOVED_FROM;
  if (reg.uk.event & KEVENT_INODE_MODIFY) mask |= IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE;
  int wd = inotify_add_watch(inotify_.get(), reg.path.c_str(), mask);
  if (wd < 0) return Status::Errno(errno, "inotify_add_watch");
  inode_watches_[wd].push_back(&reg);
  watch_paths_[wd] = reg.path;
  reg.uk.id = static_cast<uint64_t>(wd);
  return Status::Ok();
}

void Queue::Unregister(Registration* reg, bool sync) {
  switch (reg->uk.type) {
    case KEVENT_SOCKET:
    case KEVENT_PIPE:
    case KEVENT_POLL: {
      auto it = fd_watches_.find(reg->fd);
      if (it != fd_watches_.end()) {
        it->second.regs.remove(reg);
        if (sync) SyncWatch(reg->fd, false);
      }
      break;
    }
    case KEVENT_SIGNAL:
      signal_hub::Unsubscribe(static_cast<int>(reg->uk.id), reg->owned.get());
      break;
    case KEVENT_INODE: {
      const int wd = static_cast<int>(reg->uk.id);
      auto it = inode_watches_.find(wd);
      if (it != inode_watches_.end()) {
        auto& regs = it->second;
        regs.erase(std::remove(regs.begin(), regs.end(), reg), regs.end());
        if (regs.empty()) {
          inotify_rm_watch(inotify_.get(), wd);  // EINVAL when the directory is already gone
          inode_watches_.erase(it);
        }
      }
      break;
    }
    default:
      break;
  }
  if (reg->owned.valid()) epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, reg->owned.get(), nullptr);
  if (!IsFdType(reg->uk.type)) regs_.erase(KeyOf(reg->uk, reg->path));
  by_serial_.erase(reg->serial);  // destroys *reg
}

void Queue::Remove(Ukevent& ev, const std::string& path) {
  ev.ret_flags |= KEVENT_RET_DONE;
  Registration* reg = Find(ev, path);
  if (!reg) return Break(ev, ENOENT);
  Unregister(reg, true);
}

void Queue::Modify(Ukevent& ev, const std::string& path) {
  ev.ret_flags |= KEVENT_RET_DONE;
  Registration* reg = Find(ev, path);
  if (!reg) return Break(ev, ENOENT);
  if ((ev.req_flags & ~KEVENT_REQ_ALL) || !EventBitsValid(reg->uk.type, ev.event)) return Break(ev, EINVAL);
  const Ukevent before = reg->uk;
  reg->uk.event = ev.event;
  reg->uk.req_flags = ev.req_flags;
  Status s;
  if (IsFdType(reg->uk.type)) {
    // Re-registering makes epoll re-check readiness, as the seed's requeue does.
    s = SyncWatch(reg->fd, true);
  } else if (IsTimerType(reg->uk.type) && !(reg->uk.aux & AUX_ABSTIME)) {
    itimerspec spec{};
    spec.it_value = MsToTimespec(reg->uk.id);
    if (!(reg->uk.req_flags & KEVENT_REQ_ONESHOT)) spec.it_interval = spec.it_value;
    if (timerfd_settime(reg->owned.get(), 0, &spec, nullptr) != 0) s = Status::Errno(errno, "timerfd_settime");
  }
  if (!s.ok()) {
    reg->uk = before;
    return Break(ev, s.err);
  }
  if (ev.req_flags & KEVENT_REQ_READY) {
    Ukevent ready = reg->uk;
    ready.ret_flags = KEVENT_RET_DONE;
    PushPending(ready, reg->serial);
  }
}

void Queue::MarkReady(Ukevent& ev, const std::string& path) {
  Registration* reg = Find(ev, path);
  if (!reg) return Break(ev, ENOENT);
  Ukevent ready = reg->uk;
  ready.ret_flags = KEVENT_RET_DONE;
  ready.ret_data = ev.ret_data;  // a user event's payload travels with it
  PushPending(ready, reg->serial);
  ev.ret_flags |= KEVENT_RET_DONE;
}

// ---------------------------------------------------------------------------------------
// Collection

void Queue::PushPending(const Ukevent& ev, uint64_t serial, bool front) {
  if (front) pending_.push_front(Pending{ev, serial});
  else pending_.push_back(Pending{ev, serial});
  RefreshWake();
}

void Queue::RefreshWake() {
  const bool want = !pending_.empty() || wakeups_owed_ > 0 || closed();
  if (want == wake_signalled_.load(std::memory_order_relaxed)) return;
  uint64_t value = 1;
  ssize_t r = want ? ::write(wake_.get(), &value, sizeof value) : ::read(wake_.get(), &value, sizeof value);
  // EAGAIN on write: the counter is already non-zero; on read: it is already zero.
  if (r == sizeof value || errno == EAGAIN) wake_signalled_.store(want, std::memory_order_release);
}

bool Queue::StillReady(const Registration& reg) const {
  if (!IsFdType(reg.uk.type)) return true;
  return Matched(reg.uk, PollNow(reg.fd, InterestOf(reg.uk))) != 0;
}

bool Queue::DrainPending(std::vector<Ukevent>* out, size_t max) {
  while (!pending_.empty() && out->size() < max) {
    Pending p = pending_.front();
    pending_.pop_front();
    if (p.serial) {
      auto it = by_serial_.find(p.serial);
      if (it == by_serial_.end()) continue;  // removed since: the seed drops it too
      Registration* reg = it->second.get();
      if ((reg->uk.req_flags & KEVENT_REQ_LAST_CHECK) && !StillReady(*reg)) continue;  // stays registered
      out->push_back(p.event);
      if (reg->uk.req_flags & KEVENT_REQ_ONESHOT) Unregister(reg, true);
    } else {
      out->push_back(p.event);
    }
  }
  bool woken = false;
  if (wakeups_owed_ > 0) {
    --wakeups_owed_;
    woken = true;
  }
  RefreshWake();
  return woken;
}

void Queue::Deliver(Registration* reg, Ukevent ev, bool consumed, std::vector<Ukevent>* out, size_t max) {
  if (out->size() < max) out->push_back(ev);
  else if (consumed) PushPending(ev, 0);
  // A level-triggered fd event that does not fit is simply reported again by epoll.
  if (reg->uk.req_flags & KEVENT_REQ_ONESHOT) Unregister(reg, !IsFdType(reg->uk.type));
}

void Queue::DispatchFd(int fd, uint32_t revents, std::vector<Ukevent>* out, size_t max) {
  auto it = fd_watches_.find(fd);
  if (it == fd_watches_.end()) return;
  const bool rearm = it->second.armed & EPOLLONESHOT;
  const bool edge = it->second.armed & EPOLLET;
  // Every socket event passes here, so `regs` is walked in place rather than copied, and the
  // epoll registration is only re-synced when a oneshot request left or must be re-armed
  // (events_bench under callgrind: the copy and the sync were ~45% of GetEvents).
  const RegList& regs = it->second.regs;
  bool left = false;
  for (size_t i = 0; i < regs.size();) {
    Registration* reg = regs[i];
    const uint32_t m = Matched(reg->uk, revents);
    if (!m || ((reg->uk.req_flags & KEVENT_REQ_LAST_CHECK) && !StillReady(*reg))) {
      ++i;
      continue;
    }
    Ukevent ev = reg->uk;
    ev.event = m;
    ev.ret_flags = KEVENT_RET_DONE;
    ev.ret_data = revents;
    if (revents & EPOLLERR) {
      ev.ret_flags |= KEVENT_RET_BROKEN;
      ev.err = reg->uk.type == KEVENT_SOCKET ? static_cast<uint32_t>(SocketError(fd)) : EPIPE;
    }
    const bool oneshot = reg->uk.req_flags & KEVENT_REQ_ONESHOT;
    Deliver(reg, ev, edge || oneshot, out, max);
    // Deliver unregistered a oneshot request (without syncing): slot i now holds the next one.
    if (oneshot) left = true;
    else ++i;
  }
  if (left || rearm) SyncWatch(fd, rearm);
}

void Queue::DispatchOwnedFd(Registration* reg, std::vector<Ukevent>* out, size_t max) {
  uint64_t count = 0;
  if (::read(reg->owned.get(), &count, sizeof count) != sizeof count) return;  // EAGAIN: another thread took it
  Ukevent ev = reg->uk;
  ev.ret_flags = KEVENT_RET_DONE;
  ev.ret_data = count;  // timer expirations, or signals delivered, since the last event
  const bool finished = IsTimerType(reg->uk.type) && (reg->uk.aux & AUX_ABSTIME);
  Deliver(reg, ev, true, out, max);
  if (finished && !(ev.req_flags & KEVENT_REQ_ONESHOT)) Unregister(reg, true);  // an absolute time passes once
}

void Queue::DispatchInotify(std::vector<Ukevent>* out, size_t max) {
  alignas(inotify_event) char buf[8192];
  for (;;) {
    ssize_t n = ::read(inotify_.get(), buf, sizeof buf);
    if (n <= 0) return;  // EAGAIN: drained
    for (char* p = buf; p < buf + n;) {
      auto* ie = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ie->len;
      auto it = inode_watches_.find(ie->wd);
      if (it == inode_watches_.end()) continue;
      uint32_t m = 0;
      if (ie->mask & (IN_CREATE | IN_MOVED_TO)) m |= KEVENT_INODE_CREATE;
      if (ie->mask & (IN_DELETE | IN_MOVED_FROM)) m |= KEVENT_INODE_REMOVE;
      if (ie->mask & (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE)) m |= KEVENT_INODE_MODIFY;
      const bool gone = ie->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF);
      const std::vector<Registration*> regs = it->second;
      for (Registration* reg : regs) {
        Ukevent ev = reg->uk;
        ev.event = m & reg->uk.event;
        if (!ev.event && !gone) continue;
        ev.ret_flags = KEVENT_RET_DONE;
        ev.ret_data = ie->mask;
        if (gone) {
          ev.ret_flags |= KEVENT_RET_BROKEN;
          ev.err = ENOENT;
        }
        Deliver(reg, ev, true, out, max);
      }
    }
  }
}

void Queue::Dispatch(const epoll_event& e, std::vector<Ukevent>* out, size_t max) {
  const uint64_t tag = e.data.u64;
  if (tag == kTagWake) return;  // the pending list is drained by the caller
  if (tag == kTagInotify) return DispatchInotify(out, max);
  if ((tag & kTagMask) == kTagFd) return DispatchFd(static_cast<int>(tag & 0xffffffff), e.events, out, max);
  if ((tag & kTagMask) == kTagSerial) {
    auto it = by_serial_.find(tag & ~kTagMask);
    if (it != by_serial_.end()) DispatchOwnedFd(it->second.get(), out, max);
  }
}

int Queue::GetEvents(size_t min_nr, size_t max_nr, int64_t timeout_ms, uint32_t flags,
                     std::vector<Ukevent>* out, Status* status) {
  if (max_nr == 0 || min_nr > max_nr) {
    *status = Status::Errno(EINVAL, "kevent_get_events", "need 0 <= min_nr <= max_nr and max_nr > 0");
    return -1;
  }
  if (timeout_ms < -1) {
    *status = Status::Errno(EINVAL, "kevent_get_events", "timeout must be >= 0, or -1 to wait forever");
    return -1;
  }
  const size_t start = out->size();
  const size_t limit = start + max_nr;
  const size_t wanted = start + min_nr;
  const int64_t deadline = DeadlineOf(timeout_ms, flags);
  epoll_event events[1024];  // the seed's batch: fewer epoll_wait calls when many fds are ready
  for (;;) {
    // Nothing pending, no wakeup owed, not closed: skip the lock (most calls). Whatever a
    // racing Ctl/Post/Close adds makes wake_ readable, so epoll_wait returns and we loop here.
    if (closed() || wake_signalled_.load(std::memory_order_acquire)) {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed()) {
        *status = Status::Errno(EBADF, "kevent_get_events", "queue is closed");
        return -1;
      }
      if (DrainPending(out, limit)) break;  // KEVENT_CTL_READY with no events woke us
    }
    if (out->size() >= limit) break;
    // Once the minimum is met, one non-blocking look picks up whatever else is ready; an fd
    // appears at most once per epoll_wait, so a level-triggered one is never doubled.
    const int wait_ms = out->size() >= wanted ? 0 : RemainingMs(deadline);
    const int room = static_cast<int>(std::min<size_t>(limit - out->size(), 1024));
    const int n = epoll_wait(epoll_.get(), events, room, wait_ms);
    if (n < 0 && errno != EINTR) {
      *status = Status::Errno(errno, "epoll_wait");
      return -1;
    }
    if (n > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      for (int i = 0; i < n; ++i) Dispatch(events[i], out, limit);
    }
    if (out->size() >= wanted || wait_ms == 0) break;
  }
  return static_cast<int>(out->size() - start);
}

// ---------------------------------------------------------------------------------------
// Ring

int Queue::Wait(uint32_t num, uint32_t old_uidx, int64_t timeout_ms, uint32_t flags, Status* status) {
  uint32_t room;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed()) {
      *status = Status::Errno(EBADF, "kevent_wait", "queue is closed");
      return -1;
    }
    if (!ring_) {
      *status = Status::Errno(EINVAL, "kevent_wait", "queue has no ring");
      return -1;
    }
    // The seed: an old_uidx the queue has moved past means the caller is behind; return now.
    if (static_cast<int32_t>(old_uidx) != ring_->uidx || num == 0) return 0;
    room = static_cast<uint32_t>(ring_->size - ring_->used);
  }
  if (room == 0) {
    // A full ring: wait for readiness without taking events, so none are lost.
    pollfd p{epoll_.get(), POLLIN, 0};
    const int64_t deadline = DeadlineOf(timeout_ms, flags);
    int r;
    do r = ::poll(&p, 1, RemainingMs(deadline)); while (r < 0 && errno == EINTR);
    return 0;
  }
  std::vector<Ukevent> got;
  if (GetEvents(1, std::min(num, room), timeout_ms, flags, &got, status) < 0) return -1;
  std::lock_guard<std::mutex> lock(mu_);
  int copied = 0;
  size_t i = 0;
  for (; i < got.size() && ring_->used < ring_->size; ++i) {
    const int32_t k = ring_->kidx;
    slots_[k] = got[i];
    int32_t next = k + 1;
    if (next == ring_->size) {
      next = 0;
      __atomic_store_n(&ring_->over, ring_->over + 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&ring_->used, ring_->used + 1, __ATOMIC_RELEASE);
    __atomic_store_n(&ring_->kidx, next, __ATOMIC_RELEASE);
    ++copied;
  }
  // Another thread filled the ring meanwhile: keep the rest, in order, for the next call.
  for (size_t j = got.size(); j > i; --j) PushPending(got[j - 1], 0, true);
  return copied;
}

int Queue::Commit(uint32_t new_uidx, uint32_t over, Status* status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed()) {
    *status = Status::Errno(EBADF, "kevent_commit", "queue is closed");
    return -1;
  }
  if (!ring_) {
    *status = Status::Errno(EINVAL, "kevent_commit", "queue has no ring");
    return -1;
  }
  const int64_t size = ring_->size;
  if (new_uidx >= static_cast<uint64_t>(size)) {
    *status = Status::Errno(ERANGE, "kevent_commit", "index is outside the ring");
    return -1;
  }
  const int64_t target = static_cast<int64_t>(over) * size + new_uidx;
  const int64_t committed = static_cast<int64_t>(static_cast<uint32_t>(ring_->uover)) * size + ring_->uidx;
  const int64_t written = static_cast<int64_t>(static_cast<uint32_t>(ring_->over)) * size + ring_->kidx;
  // Another thread committed these already, or `over` is stale: the seed frees nothing.
  if (target <= committed) return 0;
  if (target > written) {
    *status = Status::Errno(ERANGE, "kevent_commit", "index is past the last event written");
    return -1;
  }
  const int n = static_cast<int>(target - committed);
  __atomic_store_n(&ring_->uidx, static_cast<int32_t>(new_uidx), __ATOMIC_RELEASE);
  __atomic_store_n(&ring_->uover, static_cast<int32_t>(over), __ATOMIC_RELEASE);
  __atomic_store_n(&ring_->used, ring_->used - n, __ATOMIC_RELEASE);
  return n;
}

// ---------------------------------------------------------------------------------------

bool Queue::Post(const Ukevent& ev) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed()) return false;
  PushPending(ev, 0);
  return true;
}

void Queue::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_.exchange(true)) return;
    while (!by_serial_.empty()) Unregister(by_serial_.begin()->second.get(), true);
    fd_watches_.clear();
    pending_.clear();
    RefreshWake();  // stays readable: every waiter wakes and sees the queue closed
  }
  std::lock_guard<std::mutex> lock(listeners_mu_);
  for (auto& entry : close_listeners_) entry.second();
  close_listeners_.clear();
}

uint64_t Queue::AddCloseListener(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  // Close() marks the queue closed before it takes listeners_mu_, so a listener added while
  // the queue still looks open is always called.
  if (closed()) return 0;
  const uint64_t id = next_listener_++;
  close_listeners_.emplace(id, std::move(fn));
  return id;
}

void Queue::RemoveCloseListener(uint64_t id) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  close_listeners_.erase(id);
}

std::string Queue::PathOf(uint64_t watch_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = watch_paths_.find(static_cast<int>(watch_id));
  return it == watch_paths_.end() ? std::string() : it->second;
}

}  // namespace kevent
