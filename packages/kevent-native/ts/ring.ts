// The ring of kevent_init, in a SharedArrayBuffer: the C++ core writes events into it in
// kevent_wait, any thread holding the buffer reads them, and kevent_commit frees slots.
import { constants as osConstants } from 'node:os';
import { KEVENT_INODE } from './constants.js';
import { checkInteger } from './errors.js';
import { native, type NativeQueue } from './native.js';
import type { Ukevent } from './ukevent.js';

// Int32 indices of the header fields (struct RingHeader in src/core/ukevent.h).
const KIDX = 0;
const OVER = 1;
const SIZE = 2;
const UIDX = 3;
const UOVER = 4;
const USED = 5;
const LOCK = 6;
const SLOT_WORDS = native.RING_SLOT_BYTES / 4;
const HEADER_WORDS = native.RING_HEADER_BYTES / 4;
const TWO_32 = 2 ** 32;

const AUX_USER_BIGINT = 0x1;
const AUX_USER_SIGNED = 0x2;

export function ringBytes(slots: number): number {
  return native.RING_HEADER_BYTES + slots * native.RING_SLOT_BYTES;
}

export class Ring {
  readonly buffer: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;

  constructor(buffer: SharedArrayBuffer, private readonly queue: NativeQueue) {
    this.buffer = buffer;
    this.i32 = new Int32Array(buffer);
    this.u32 = new Uint32Array(buffer);
  }

  /** ring_kidx: the slot the next event goes to. */
  get kidx(): number { return Atomics.load(this.i32, KIDX); }
  /** ring_over: how many times kidx wrapped. */
  get over(): number { return Atomics.load(this.i32, OVER) >>> 0; }
  get size(): number { return this.i32[SIZE]!; }
  /** The first slot not yet committed. */
  get uidx(): number { return Atomics.load(this.i32, UIDX); }
  /** How many times uidx wrapped (the `over` that goes with it in commit). */
  get uover(): number { return Atomics.load(this.i32, UOVER) >>> 0; }
  /** Slots written and not yet committed. */
  get used(): number { return Atomics.load(this.i32, USED); }

  /** The event in slot `index`. Read only slots that are written and not committed. */
  slot(index: number): Ukevent {
    checkInteger('index', index, 0, this.size - 1);
    const b = HEADER_WORDS + index * SLOT_WORDS;
    const u = this.u32;
    const type = u[b + 2]!;
    const rawId = u[b]! + u[b + 1]! * TWO_32;
    const aux = u[b + 11]!;
    let user: number | bigint;
    if (aux & AUX_USER_BIGINT) {
      const big = (BigInt(u[b + 9]!) << 32n) | BigInt(u[b + 8]!);
      user = aux & AUX_USER_SIGNED ? BigInt.asIntN(64, big) : big;
    } else {
      user = this.i32[b + 9]! * TWO_32 + u[b + 8]!;
    }
    const event: Ukevent = {
      id: type === KEVENT_INODE ? this.queue.pathOf(rawId) : rawId,
      type,
      event: u[b + 3]!,
      reqFlags: u[b + 4]!,
      retFlags: u[b + 5]!,
      retData: u[b + 6]! + u[b + 7]! * TWO_32,
      user,
    };
    const err = u[b + 10]!;
    if (err) {
      event.errno = -err;
      event.code = errnoName(err);
    }
    return event;
  }

  /**
   * Reads up to `max` uncommitted events in order and commits them, under a lock kept in the
   * ring itself, so that any number of threads sharing the ring each get every event once.
   */
  take(max = Infinity): Ukevent[] {
    this.lock();
    try {
      const n = Math.min(this.used, max);
      if (n <= 0) return [];
      const size = this.size;
      const uidx = this.uidx;
      const events = new Array<Ukevent>(n);
      for (let k = 0; k < n; k++) events[k] = this.slot((uidx + k) % size);
      const end = uidx + n;
      this.queue.commit(end % size, (this.uover + (end >= size ? 1 : 0)) >>> 0);
      return events;
    } finally {
      this.unlock();
    }
  }

  // A futex-style mutex on the header's lock word: 0 free, 1 held, 2 held with waiters.
  private lock(): void {
    let c = Atomics.compareExchange(this.i32, LOCK, 0, 1);
    if (c === 0) return;
    do {
      if (c === 2 || Atomics.compareExchange(this.i32, LOCK, 1, 2) !== 0) Atomics.wait(this.i32, LOCK, 2, 50);
    } while ((c = Atomics.compareExchange(this.i32, LOCK, 0, 2)) !== 0);
  }

  private unlock(): void {
    if (Atomics.sub(this.i32, LOCK, 1) !== 1) {
      Atomics.store(this.i32, LOCK, 0);
      Atomics.notify(this.i32, LOCK, 1);
    }
  }
}

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, value]) => [value as number, name]),
);
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? 'EUNKNOWN';
}
