// The JS hook's wire, both ways (the native side is src/native/dynamic.h): records the
// engine sends as one Float64Array plus one Buffer per I/O thread batch, and commands JS
// sends back as one Float64Array plus one array of strings/Buffers per thread and flush.
import type { NativeEngine } from './native.js';

/** Record kinds in a batch from an I/O thread. */
export const enum Ev {
  Request = 1,
  Body = 2,
  End = 3,
  Abort = 4,
  Ack = 5,
}
/** Request record flags. */
export const enum ReqFlag {
  Http10 = 1,
  Ipv6 = 2,
  BodyFollows = 4,
}
/** Command kinds, stride Cmd.Stride: [type, conn, rid, a, b, c]. */
export const enum Cmd {
  Answer = 1,
  Head = 2,
  Data = 3,
  Finish = 4,
  Fail = 5,
  Read = 6,
  Stride = 6,
}

/** Strings longer than this (UTF-16 units) are not joined into a flush's one text. */
const JOIN_MAX = 64 * 1024;

/**
 * Commands for one I/O thread, sent in one respond() call per flush. Strings (heads, bodies)
 * are joined into one `text` that crosses in one conversion, not one per item; item -2 - k is
 * the k-th string's span of it, and -1 stays "no item".
 */
export class CommandBuffer {
  cmds = new Float64Array(Cmd.Stride * 256);
  count = 0;
  items: Array<string | Uint8Array> = [];
  text = '';
  spans = new Float64Array(512);
  spanCount = 0;

  constructor(readonly thread: number) {}

  push(type: Cmd, conn: number, rid: number, a: number, b: number, c: number): void {
    let at = this.count * Cmd.Stride;
    if (at + Cmd.Stride > this.cmds.length) {
      const bigger = new Float64Array(this.cmds.length * 2);
      bigger.set(this.cmds);
      this.cmds = bigger;
    }
    const m = this.cmds;
    m[at++] = type;
    m[at++] = conn;
    m[at++] = rid;
    m[at++] = a;
    m[at++] = b;
    m[at] = c;
    this.count++;
  }

  /** Index of `value` in this flush's items (a string: -2 - its span's index). */
  item(value: string | Uint8Array): number {
    // A long string crosses on its own: joined with others it could pass V8's string length
    // limit, and a join's one conversion only pays for short strings.
    if (typeof value !== 'string' || value.length > JOIN_MAX) return this.items.push(value) - 1;
    const at = this.spanCount * 2;
    if (at + 2 > this.spans.length) {
      const bigger = new Float64Array(this.spans.length * 2);
      bigger.set(this.spans);
      this.spans = bigger;
    }
    this.spans[at] = this.text.length;
    this.text += value;
    this.spans[at + 1] = this.text.length;
    return -2 - this.spanCount++;
  }

  flush(native: NativeEngine): void {
    if (this.count === 0) return;
    const count = this.count;
    this.count = 0;
    try {
      native.respond(this.thread, this.cmds, count, this.items, this.text, this.spans.subarray(0, this.spanCount * 2));
    } finally {
      this.items.length = 0;  // respond() copied what it needs
      this.text = '';
      this.spanCount = 0;
    }
  }
}
