// One kevent "user" (kevent_init's control fd) on Linux: an epoll set, our table from
// (type, id, user) to registrations, a user-space ready list, and an optional ring.
// Thread-safe: any number of threads may ctl/wait/commit/post on one queue at once.
#pragma once
#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "status.h"
#include "ukevent.h"
#include "unique_fd.h"

namespace kevent {

class Queue {
 public:
  // kevent_init without a ring; AttachRing adds one.
  static std::shared_ptr<Queue> Create(Status* status);
  ~Queue();
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  // The ring lives in memory the caller owns and keeps alive while the queue may use it.
  Status AttachRing(void* memory, size_t bytes, uint32_t slots);

  // kevent_ctl. `paths[i]` is the directory of a KEVENT_INODE request (may be null otherwise).
  // Per-event failures set KEVENT_RET_BROKEN and `err` on that event; the call itself fails
  // only for an unknown command or a closed queue. Returns the number processed.
  int Ctl(uint32_t cmd, Ukevent* events, const std::string* paths, size_t count, Status* status);

  // kevent_get_events: waits up to `timeout_ms` (-1: forever; absolute CLOCK_REALTIME ms with
  // KEVENT_FLAGS_ABSTIME) for at least `min_nr` events; returns at most `max_nr`.
  int GetEvents(size_t min_nr, size_t max_nr, int64_t timeout_ms, uint32_t flags,
                std::vector<Ukevent>* out, Status* status);

  // kevent_wait: copies up to `num` ready events into the ring; returns how many.
  int Wait(uint32_t num, uint32_t old_uidx, int64_t timeout_ms, uint32_t flags, Status* status);
  // kevent_commit: frees ring slots up to `new_uidx` seen at overflow count `over`.
  int Commit(uint32_t new_uidx, uint32_t over, Status* status);

  // Queues an event that no registration produced (AIO completions); wakes one waiter.
  // Returns false when the queue is closed.
  bool Post(const Ukevent& event);

  // Marks the queue closed and wakes every waiter; they fail with EBADF. Registrations are
  // dropped now; the epoll fd itself closes with the last reference.
  void Close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // For work aimed at this queue from outside it (the aio pool): `fn` runs once, when Close()
  // is called, on the closing thread and outside the queue's lock, so the owner can cancel.
  // Returns 0 without keeping `fn` when the queue is already closed. RemoveCloseListener
  // waits for a listener that is running (its captures may die once it returns), so a
  // listener must not call it.
  uint64_t AddCloseListener(std::function<void()> fn);
  void RemoveCloseListener(uint64_t id);

  // The epoll fd: readable whenever an event may be ready (for libuv's poll watcher).
  int fd() const { return epoll_.get(); }
  // Directory path of an inotify watch id found in delivered KEVENT_INODE events.
  std::string PathOf(uint64_t watch_id);

 private:
  struct Registration;
  // The requests on one fd: nearly always exactly one, held inline so that a watched socket
  // costs no allocation beyond its map entry (idle connections are counted in bytes).
  class RegList {
   public:
    RegList() = default;
    ~RegList() { if (cap_ > 1) delete[] many_; }
    RegList(const RegList&) = delete;
    RegList& operator=(const RegList&) = delete;
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    Registration* operator[](size_t i) const { return begin()[i]; }
    Registration* const* begin() const { return cap_ > 1 ? many_ : &one_; }
    Registration* const* end() const { return begin() + size_; }
    void push_back(Registration* reg);
    void remove(Registration* reg);  // every occurrence, order kept
   private:
    union {
      Registration* one_ = nullptr;
      Registration** many_;  // when cap_ > 1
    };
    uint32_t size_ = 0;
    uint32_t cap_ = 1;
  };
  struct FdWatch {
    RegList regs;
    uint32_t armed = 0;        // epoll_event.events currently registered, 0 if not added
  };
  // `path` points at the registration's own directory (or, for a lookup, the caller's); it
  // is null for every type but KEVENT_INODE, so socket keys carry no string.
  struct Key {
    uint32_t type;
    uint64_t id;
    uint64_t user;
    const std::string* path;
    bool operator==(const Key& o) const {
      return type == o.type && id == o.id && user == o.user &&
             (path == o.path || (path && o.path && *path == *o.path));
    }
  };
  struct KeyHash { size_t operator()(const Key& k) const noexcept; };
  struct Pending {
    Ukevent event;
    uint64_t serial;  // registration it came from, 0 for posted events
  };

  Queue() = default;
  Status Init();

  void Add(Ukevent& ev, const std::string& path);
  void Remove(Ukevent& ev, const std::string& path);
  void Modify(Ukevent& ev, const std::string& path);
  void MarkReady(Ukevent& ev, const std::string& path);

  Status AddFdRegistration(Registration& reg);
  Status AddTimer(Registration& reg);
  Status AddSignal(Registration& reg);
  Status AddInode(Registration& reg);
  // Brings the epoll registration of `fd` in line with its requests; `rearm` re-arms a
  // fired EPOLLONESHOT even when nothing changed.
  Status SyncWatch(int fd, bool rearm);
  void Unregister(Registration* reg, bool sync);
  Key KeyOf(const Ukevent& ev, const std::string& path) const;
  Registration* Find(const Ukevent& ev, const std::string& path);

  // Collection: all run with mu_ held.
  void Dispatch(const epoll_event& ev, std::vector<Ukevent>* out, size_t max);
  void DispatchFd(int fd, uint32_t revents, std::vector<Ukevent>* out, size_t max);
  void DispatchOwnedFd(Registration* reg, std::vector<Ukevent>* out, size_t max);
  void DispatchInotify(std::vector<Ukevent>* out, size_t max);
  // `consumed`: the readiness cannot be seen again (edge, counter read), so an event that
  // does not fit in `out` must wait in pending_.
  void Deliver(Registration* reg, Ukevent ev, bool consumed, std::vector<Ukevent>* out, size_t max);
  bool DrainPending(std::vector<Ukevent>* out, size_t max);
  void PushPending(const Ukevent& ev, uint64_t serial, bool front = false);
  void RefreshWake();
  bool StillReady(const Registration& reg) const;

  UniqueFd epoll_;
  UniqueFd wake_;      // eventfd, readable while pending_ is non-empty, a wakeup is owed, or closed
  UniqueFd inotify_;   // created on the first KEVENT_INODE request
  std::atomic<bool> closed_{false};

  std::mutex mu_;
  uint64_t next_serial_ = 1;
  // Every registration, owned here. Sockets, pipes and polls are found through their fd's
  // watch; regs_ indexes the other types, so a socket costs no entry in it.
  std::unordered_map<uint64_t, std::unique_ptr<Registration>> by_serial_;
  std::unordered_map<Key, Registration*, KeyHash> regs_;
  std::unordered_map<int, FdWatch> fd_watches_;
  std::unordered_map<int, std::vector<Registration*>> inode_watches_;
  std::unordered_map<int, std::string> watch_paths_;
  std::deque<Pending> pending_;
  uint32_t wakeups_owed_ = 0;  // KEVENT_CTL_READY with no events
  // Mirrors whether wake_ is readable; GetEvents reads it without mu_ to skip an empty drain.
  std::atomic<bool> wake_signalled_{false};

  std::mutex listeners_mu_;  // not mu_: listeners run without it, and never on the event path
  std::unordered_map<uint64_t, std::function<void()>> close_listeners_;
  uint64_t next_listener_ = 1;

  RingHeader* ring_ = nullptr;
  Ukevent* slots_ = nullptr;
};

}  // namespace kevent
