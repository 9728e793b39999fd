// aio_sendfile and aio_sendfile_path (the seed's asynchronous sendfile) on our own native
// thread pool. Each call returns a cookie at once; the end of the transfer arrives later as
// one KEVENT_AIO event on the queue, with `user` = the cookie.
import { native } from './native.js';
import type { Queue } from './queue.js';

/** A file offset or byte count: a safe integer, or a bigint up to 2^63-1. */
export type FileSize = number | bigint;

export interface AioOptions {
  /** Pool threads; 0 or absent: the default (AIO_DEFAULT_THREADS: 2 x cores, 4 to 64). */
  threads?: number;
}

export interface AioStats {
  /** Pool threads running. */
  threads: number;
  /** Of those, the ones working on a job right now (never one waiting on a full socket). */
  busy: number;
  /** Jobs submitted and not yet finished. */
  jobs: number;
  /** Jobs waiting for a free pool thread. */
  queued: number;
  /** Jobs waiting for their socket to become writable; no thread is held by them. */
  parked: number;
  /** Completions posted since the process started (DONE or BROKEN). */
  completed: number;
  /** Jobs that ended without a completion because their queue was closed. */
  cancelled: number;
  /** Times any job parked on a full socket since the process started. */
  parks: number;
}

/**
 * Sends `count` bytes of `inFd` from `offset` to the socket `sockFd` with sendfile(2) on the
 * pool (`count` 0: to end of file; past the end: what exists). Both fds are duplicated before
 * this returns, so the caller may close its own. Completion: a KEVENT_AIO event on `queue`.
 */
export function aioSendfile(queue: Queue, sockFd: number, inFd: number, offset: FileSize = 0, count: FileSize = 0): number {
  return native.aioSendfile(queue, sockFd, inFd, offset, count);
}

/**
 * Like aioSendfile, but opens `path` on the pool (open may block) and sends `header` (may be
 * empty or null) before the file's bytes, in order. A missing file ends BROKEN with ENOENT.
 */
export function aioSendfilePath(
  queue: Queue,
  sockFd: number,
  header: Uint8Array | null,
  path: string,
  offset: FileSize = 0,
  count: FileSize = 0,
): number {
  return native.aioSendfilePath(queue, sockFd, header, path, offset, count);
}

/** Resizes the process-wide pool (waits for running threads to finish their current slice). */
export function configureAio(options: AioOptions): AioStats {
  return native.configureAio(options);
}

export function aioStats(): AioStats {
  return native.aioStats();
}

/** The pool size used when none is configured, for this machine. */
export const AIO_DEFAULT_THREADS: number = native.AIO_DEFAULT_THREADS;
