// The seed's constants under the seed's names (include/linux/ukevent.h, kevent take37),
// plus KEVENT_USER and KEVENT_REQ_READY from its later "private userspace notifications".

export const KEVENT_CTL_ADD = 0;
export const KEVENT_CTL_REMOVE = 1;
export const KEVENT_CTL_MODIFY = 2;
export const KEVENT_CTL_READY = 3;

export const KEVENT_SOCKET = 0;
export const KEVENT_INODE = 1;
export const KEVENT_TIMER = 2;
export const KEVENT_POLL = 3;
export const KEVENT_NAIO = 4;
export const KEVENT_AIO = 5;
export const KEVENT_PIPE = 6;
export const KEVENT_SIGNAL = 7;
export const KEVENT_POSIX_TIMER = 8;
export const KEVENT_USER = 9;
export const KEVENT_UNOTIFY = KEVENT_USER;
export const KEVENT_MAX = 10;

export const KEVENT_TIMER_FIRED = 0x1;
export const KEVENT_SOCKET_RECV = 0x1;
export const KEVENT_SOCKET_ACCEPT = 0x2;
export const KEVENT_SOCKET_SEND = 0x4;
export const KEVENT_INODE_CREATE = 0x1;
export const KEVENT_INODE_REMOVE = 0x2;
/** Not in the seed: a file in the directory was written or closed after writing, or its attributes changed. */
export const KEVENT_INODE_MODIFY = 0x4;
export const KEVENT_AIO_BIO = 0x1;
export const KEVENT_SIGNAL_DELIVERY = 0x1;
export const KEVENT_USER_NOTIFY = 0x1;

export const KEVENT_POLL_POLLIN = 0x0001;
export const KEVENT_POLL_POLLPRI = 0x0002;
export const KEVENT_POLL_POLLOUT = 0x0004;
export const KEVENT_POLL_POLLERR = 0x0008;
export const KEVENT_POLL_POLLHUP = 0x0010;
export const KEVENT_POLL_POLLNVAL = 0x0020;
export const KEVENT_POLL_POLLRDNORM = 0x0040;
export const KEVENT_POLL_POLLRDBAND = 0x0080;
export const KEVENT_POLL_POLLWRNORM = 0x0100;
export const KEVENT_POLL_POLLWRBAND = 0x0200;
export const KEVENT_POLL_POLLMSG = 0x0400;
export const KEVENT_POLL_POLLREMOVE = 0x1000;
export const KEVENT_POLL_POLLRDHUP = 0x2000;

export const KEVENT_MASK_ALL = 0xffffffff;
export const KEVENT_MASK_EMPTY = 0x0;

export const KEVENT_REQ_ONESHOT = 0x1;
export const KEVENT_REQ_WAKEUP_ALL = 0x2;
export const KEVENT_REQ_ET = 0x4;
export const KEVENT_REQ_LAST_CHECK = 0x8;
export const KEVENT_REQ_ALWAYS_QUEUE = 0x10;
export const KEVENT_REQ_READY = 0x20;

export const KEVENT_RET_BROKEN = 0x1;
export const KEVENT_RET_DONE = 0x2;
export const KEVENT_RET_COPY_FAILED = 0x4;

export const KEVENT_FLAGS_ABSTIME = 0x1;
