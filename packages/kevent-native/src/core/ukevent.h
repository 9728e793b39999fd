// The seed's ABI (Documentation/kevent.txt and include/linux/ukevent.h of the kevent
// patchset, take37), plus the fields a user-space implementation needs to report errors.
#pragma once
#include <cstdint>

namespace kevent {

// kevent_ctl commands
constexpr uint32_t KEVENT_CTL_ADD = 0;
constexpr uint32_t KEVENT_CTL_REMOVE = 1;
constexpr uint32_t KEVENT_CTL_MODIFY = 2;
constexpr uint32_t KEVENT_CTL_READY = 3;

// types
constexpr uint32_t KEVENT_SOCKET = 0;
constexpr uint32_t KEVENT_INODE = 1;
constexpr uint32_t KEVENT_TIMER = 2;
constexpr uint32_t KEVENT_POLL = 3;
constexpr uint32_t KEVENT_NAIO = 4;
constexpr uint32_t KEVENT_AIO = 5;
constexpr uint32_t KEVENT_PIPE = 6;
constexpr uint32_t KEVENT_SIGNAL = 7;
constexpr uint32_t KEVENT_POSIX_TIMER = 8;
constexpr uint32_t KEVENT_USER = 9;  // the seed's "private userspace notifications" (unotify)
constexpr uint32_t KEVENT_MAX = 10;

// events
constexpr uint32_t KEVENT_TIMER_FIRED = 0x1;
constexpr uint32_t KEVENT_SOCKET_RECV = 0x1;
constexpr uint32_t KEVENT_SOCKET_ACCEPT = 0x2;
constexpr uint32_t KEVENT_SOCKET_SEND = 0x4;
constexpr uint32_t KEVENT_INODE_CREATE = 0x1;
constexpr uint32_t KEVENT_INODE_REMOVE = 0x2;
// Ours, not the seed's: a file in the directory was written, closed after writing, or had its
// attributes changed (what a cache of the directory's files must hear about).
constexpr uint32_t KEVENT_INODE_MODIFY = 0x4;
constexpr uint32_t KEVENT_AIO_BIO = 0x1;
constexpr uint32_t KEVENT_SIGNAL_DELIVERY = 0x1;
constexpr uint32_t KEVENT_USER_NOTIFY = 0x1;
constexpr uint32_t KEVENT_MASK_ALL = 0xffffffff;
// KEVENT_POLL_* equal the Linux POLL* bits (POLLIN 0x1 ... POLLRDHUP 0x2000).

// request flags
constexpr uint32_t KEVENT_REQ_ONESHOT = 0x1;
constexpr uint32_t KEVENT_REQ_WAKEUP_ALL = 0x2;
constexpr uint32_t KEVENT_REQ_ET = 0x4;
constexpr uint32_t KEVENT_REQ_LAST_CHECK = 0x8;
constexpr uint32_t KEVENT_REQ_ALWAYS_QUEUE = 0x10;
constexpr uint32_t KEVENT_REQ_READY = 0x20;
constexpr uint32_t KEVENT_REQ_ALL = 0x3f;

// return flags
constexpr uint32_t KEVENT_RET_BROKEN = 0x1;
constexpr uint32_t KEVENT_RET_DONE = 0x2;
constexpr uint32_t KEVENT_RET_COPY_FAILED = 0x4;

// wait / timer flags
constexpr uint32_t KEVENT_FLAGS_ABSTIME = 0x1;

// Ukevent::aux bits (ours: what the C struct's union and ret_data[1] carried)
constexpr uint32_t AUX_USER_BIGINT = 0x1;   // `user` was given as a BigInt
constexpr uint32_t AUX_USER_SIGNED = 0x2;   // ... a negative one
constexpr uint32_t AUX_ABSTIME = 0x4;       // timer id is an absolute CLOCK_REALTIME time in ms

// One event, exactly as stored in a ring slot (48 bytes, 8-byte aligned).
struct Ukevent {
  uint64_t id = 0;        // fd, timer period (ms), signal number, user's number, inotify wd
  uint32_t type = 0;
  uint32_t event = 0;
  uint32_t req_flags = 0;
  uint32_t ret_flags = 0;
  uint64_t ret_data = 0;  // bytes, expirations, signal count, poll revents
  uint64_t user = 0;
  uint32_t err = 0;       // errno when KEVENT_RET_BROKEN (the seed's ret_data[1])
  uint32_t aux = 0;       // AUX_* bits
};
static_assert(sizeof(Ukevent) == 48, "ring slot layout is shared with JavaScript");

// Ring header in front of the slots; JavaScript reads it with Atomics on an Int32Array.
struct RingHeader {
  int32_t kidx;   // ring_kidx: where the next event is written
  int32_t over;   // ring_over: times kidx wrapped
  int32_t size;   // slots
  int32_t uidx;   // first slot not yet committed
  int32_t uover;  // times uidx wrapped
  int32_t used;   // slots written and not committed
  int32_t lock;   // free for consumers to coordinate (Ring.take uses it); never touched here
  int32_t reserved;
};
static_assert(sizeof(RingHeader) == 32, "ring header layout is shared with JavaScript");
constexpr uint32_t kRingHeaderBytes = sizeof(RingHeader);
constexpr uint32_t kRingSlotBytes = sizeof(Ukevent);

}  // namespace kevent
