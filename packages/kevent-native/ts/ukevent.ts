/**
 * One event request or result, the seed's `struct ukevent` as a JS object.
 *
 * `id` is the fd (socket, pipe, poll), the directory path (inode), the period in ms (timer;
 * with `flags: KEVENT_FLAGS_ABSTIME`, the absolute time in ms since the epoch), the signal
 * number (signal), or a number you choose (user). `user` is a number or bigint you get back.
 */
export interface Ukevent {
  id: number | string;
  type: number;
  /** Required for KEVENT_CTL_ADD and MODIFY; REMOVE and READY find a request by type, id and user. */
  event?: number;
  reqFlags?: number;
  /** Set by the queue: KEVENT_RET_DONE, KEVENT_RET_BROKEN, KEVENT_RET_COPY_FAILED. */
  retFlags?: number;
  /**
   * Set by the queue: poll bits (socket/pipe/poll), expirations (timer), deliveries (signal),
   * bytes sent (aio), inotify mask (inode). On KEVENT_CTL_READY it is the payload you send.
   */
  retData?: number;
  user?: number | bigint;
  /** KEVENT_FLAGS_ABSTIME for an absolute-time timer. */
  flags?: number;
  /** With KEVENT_RET_BROKEN: the negative errno and its name (e.g. 'EBADF'). */
  errno?: number;
  code?: string;
}
