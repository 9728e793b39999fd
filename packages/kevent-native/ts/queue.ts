// Queue: one kevent "user" (kevent_init) with the seed's calls as methods.
import { checkInteger, codedError } from './errors.js';
import { native, type NativeQueue } from './native.js';
import { Ring, ringBytes } from './ring.js';
import type { Ukevent } from './ukevent.js';

export interface QueueOptions {
  /** Slots in the ring that `wait` copies events into; 0 for no ring. Default 1024. */
  ringSize?: number;
}

/** What a worker thread needs to attach to a queue: post it with `worker.postMessage`. */
export interface SharedQueue {
  shareId: number;
  ring: SharedArrayBuffer | null;
}

export interface OnReadyOptions {
  /** Events drained per callback. Default 1024. */
  maxEvents?: number;
}

const MAX_RING = 1 << 24;

export class Queue {
  /** The native handle; other @kevent packages (aio) accept the Queue and find it here. */
  readonly native: NativeQueue;
  readonly ring: Ring | null;

  constructor(options: QueueOptions = {}) {
    const ringSize = checkInteger('ringSize', options.ringSize ?? 1024, 0, MAX_RING);
    const buffer = ringSize > 0 ? new SharedArrayBuffer(ringBytes(ringSize)) : null;
    this.native = new native.NativeQueue(buffer ? new Int32Array(buffer) : null);
    this.ring = buffer ? new Ring(buffer, this.native) : null;
  }

  /** The same queue and ring in another thread (from `queue.share()`). */
  static attach(shared: SharedQueue): Queue {
    if (!shared || typeof shared !== 'object') {
      throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', 'attach() takes the object queue.share() returned');
    }
    const queue = Object.create(Queue.prototype) as { native: NativeQueue; ring: Ring | null };
    queue.native = new native.NativeQueue(shared.ring ? new Int32Array(shared.ring) : null, shared.shareId);
    queue.ring = shared.ring ? new Ring(shared.ring, queue.native) : null;
    return queue as Queue;
  }

  /** kevent_ctl: returns how many were processed; sets each ukevent's `retFlags`. */
  ctl(cmd: number, ukevents: Ukevent[] = []): number {
    return this.native.ctl(cmd, ukevents);
  }

  /**
   * kevent_get_events: waits up to `timeoutMs` (-1: forever) for at least `minNr` events and
   * returns at most `maxNr`. With `minNr` 0 it never blocks, which is how Node's main thread
   * should call it; a blocking call belongs in a worker thread.
   */
  getEvents(minNr: number, maxNr: number, timeoutMs = -1, flags = 0): Ukevent[] {
    return this.native.getEvents(minNr, maxNr, timeoutMs, flags);
  }

  /** kevent_wait: copies up to `num` ready events into the ring; returns how many. */
  wait(num: number, oldUidx: number, timeoutMs = -1, flags = 0): number {
    return this.native.wait(num, oldUidx, timeoutMs, flags);
  }

  /** kevent_commit: frees ring slots before `newUidx` seen at overflow count `over`. */
  commit(newUidx: number, over: number): number {
    return this.native.commit(newUidx, over);
  }

  /**
   * Drains ready events on Node's event loop without blocking it: libuv watches the queue's
   * epoll fd, and `callback` gets each batch. Keeps the process alive until `offReady()`,
   * `unref()` or `close()`.
   */
  onReady(callback: (events: Ukevent[]) => void, options: OnReadyOptions = {}): this {
    const max = checkInteger('maxEvents', options.maxEvents ?? 1024, 1, 1 << 20);
    this.native.startPoll(() => {
      const events = this.native.getEvents(0, max, 0);
      if (events.length > 0) callback(events);
    });
    return this;
  }

  offReady(): this {
    this.native.stopPoll();
    return this;
  }

  ref(): this {
    this.native.setPollRef(true);
    return this;
  }

  unref(): this {
    this.native.setPollRef(false);
    return this;
  }

  share(): SharedQueue {
    return { shareId: this.native.share(), ring: this.ring ? this.ring.buffer : null };
  }

  /** Closes the queue for every thread sharing it; parked waiters fail with EBADF. */
  close(): void {
    this.native.close();
  }

  get closed(): boolean {
    return this.native.closed;
  }

  /** The epoll fd behind the queue. */
  get fd(): number {
    return this.native.fd;
  }
}
