// A request the engine handed to JS. Built per request on the hot path, so every string is
// decoded from the batch's bytes only when asked for, and the body stream, the AbortSignal
// and the header list exist only once used.
import { Readable } from 'node:stream';
import { Cmd, ReqFlag, type CommandBuffer } from './hook-wire.js';

/** Request body bytes JS takes into a body stream's buffer before asking for no more. */
const BODY_HIGH_WATER = 64 * 1024;

type Latin1 = Buffer & { latin1Slice(start: number, end: number): string };

/** Owner of the requests of one I/O thread: the commands they send and the flush. */
export interface HookThread {
  readonly out: CommandBuffer;
  /** Keeps `req` where the engine's later events for it find it. */
  track(req: HookRequest): void;
  schedule(): void;
  forget(req: HookRequest): void;
}

function abortError(): Error {
  return Object.assign(new Error('the client closed the connection'), { code: 'ECONNRESET' });
}

export class HookRequest {
  readonly conn: number;
  readonly rid: number;
  readonly remotePort: number;
  /** The dispatcher's state for this request's I/O thread. */
  readonly hookThread: HookThread;
  readonly #thread: HookThread;
  readonly #flags: number;
  readonly #data: Latin1;
  readonly #meta: Float64Array;
  readonly #at: number; // index in #meta of the first range's start
  #method: string | undefined;
  #url: string | undefined;
  #rawHeaders: string[] | undefined;
  // Body: chunks not yet taken by a reader; bodyDone once the engine says the body ended.
  #chunks: Buffer[] = [];
  #bodyDone: boolean;
  #stream: Readable | undefined;
  #collect: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  #dumping = false;
  #aborted = false;
  #controller: AbortController | undefined;
  /** Response side, kept by the dispatcher: bytes given to the engine and not yet acked. */
  inflight = 0;
  answered = false;
  /** In the dispatcher's table of requests the engine may still send events for. */
  tracked = false;
  onDrain: (() => void) | undefined;

  constructor(thread: HookThread, meta: Float64Array, at: number, data: Buffer) {
    this.#thread = thread;
    this.hookThread = thread;
    this.#meta = meta;
    this.conn = meta[at + 1];
    this.rid = meta[at + 2];
    this.#flags = meta[at + 3];
    this.remotePort = meta[at + 4];
    this.#at = at + 5;
    this.#data = data as Latin1;
    this.#bodyDone = (this.#flags & ReqFlag.BodyFollows) === 0;
    const n = meta[at + 6];
    const bodyStart = meta[at + 6 + n - 1];
    const bodyEnd = meta[at + 6 + n];
    if (bodyEnd > bodyStart) this.#chunks.push(data.subarray(bodyStart, bodyEnd));
  }

  /** Record length in the batch, for the dispatcher's walk. */
  static span(meta: Float64Array, at: number): number {
    return 7 + meta[at + 6];
  }

  #range(i: number): string {
    const m = this.#meta;
    const start = i === 0 ? m[this.#at] : m[this.#at + 1 + i];
    return this.#data.latin1Slice(start, m[this.#at + 2 + i]);
  }

  get method(): string {
    if (this.#method === undefined) {
      const d = this.#data;
      const s = this.#meta[this.#at];
      const len = this.#meta[this.#at + 2] - s;
      // The common ones without decoding.
      this.#method =
        len === 3 && d[s] === 0x47 ? 'GET' : len === 4 && d[s] === 0x50 && d[s + 1] === 0x4f ? 'POST' : len === 4 && d[s] === 0x48 ? 'HEAD' : this.#range(0);
    }
    return this.#method;
  }

  get url(): string {
    return (this.#url ??= this.#range(1));
  }

  get httpVersion(): '1.0' | '1.1' {
    return this.#flags & ReqFlag.Http10 ? '1.0' : '1.1';
  }

  get remoteAddress(): string {
    return this.#range(2);
  }

  get remoteFamily(): 'IPv4' | 'IPv6' {
    return this.#flags & ReqFlag.Ipv6 ? 'IPv6' : 'IPv4';
  }

  /** Header names as the client wrote them, and values, alternating, in the order received. */
  get rawHeaders(): string[] {
    if (!this.#rawHeaders) {
      const n = this.#meta[this.#at + 1] - 4;
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) out[i] = this.#range(3 + i);
      this.#rawHeaders = out;
    }
    return this.#rawHeaders;
  }

  /** The first value of a header, its name compared without case. */
  header(name: string): string | undefined {
    const raw = this.rawHeaders;
    const lower = name.toLowerCase();
    for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === lower) return raw[i + 1];
    return undefined;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Aborts when the client goes away before the response is complete. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(abortError());
    }
    return this.#controller.signal;
  }

  /** The body as a stream; reading it is what lets the engine read more from the client. */
  get body(): Readable {
    if (!this.#stream) {
      const stream = new Readable({ highWaterMark: BODY_HIGH_WATER, read: () => this.#pump() });
      this.#stream = stream;
      if (this.#aborted) stream.destroy(abortError());
    }
    return this.#stream;
  }

  /** The whole body (bounded by maxBodySize). */
  buffer(): Promise<Buffer> {
    if (this.#stream) return collect(this.#stream);
    if (this.#aborted) return Promise.reject(abortError());
    if (this.#bodyDone) return Promise.resolve(this.#take());
    return new Promise((resolve, reject) => {
      this.#collect = { resolve, reject };
      this.#read(this.#chunks.reduce((n, c) => n + c.length, 0));
    });
  }

  async text(): Promise<string> {
    return (await this.buffer()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  #take(): Buffer {
    const chunks = this.#chunks;
    this.#chunks = [];
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  /** Tells the engine JS took `n` more body bytes, so it may read on. */
  #read(n: number): void {
    if (n <= 0 || this.#bodyDone) return;
    this.#thread.out.push(Cmd.Read, this.conn, this.rid, n, 0, 0);
    this.#thread.schedule();
  }

  #pump(): void {
    const stream = this.#stream!;
    while (this.#chunks.length > 0) {
      const chunk = this.#chunks.shift()!;
      this.#read(chunk.length);
      if (!stream.push(chunk)) return;
    }
    if (this.#bodyDone) stream.push(null);
  }

  // Engine events, from the dispatcher.
  onBody(chunk: Buffer): void {
    if (this.#dumping || this.#collect) {
      this.#read(chunk.length);
      if (this.#collect) this.#chunks.push(chunk);
      return;
    }
    this.#chunks.push(chunk);
    if (this.#stream && this.#stream.readableLength < BODY_HIGH_WATER) this.#pump();
  }

  onEnd(): void {
    this.#bodyDone = true;
    if (this.#collect) {
      const { resolve } = this.#collect;
      this.#collect = undefined;
      resolve(this.#take());
    } else if (this.#stream && this.#chunks.length === 0) {
      this.#stream.push(null);
    }
    if (this.answered) this.#thread.forget(this);
  }

  onAbort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const err = abortError();
    const bodyOpen = !this.#bodyDone;
    this.#bodyDone = true;
    this.#chunks = [];
    if (this.#collect) {
      this.#collect.reject(err);
      this.#collect = undefined;
    }
    if (this.#stream && bodyOpen) this.#stream.destroy(err);
    this.#controller?.abort(err);
    this.onDrain?.();
    this.#thread.forget(this);
  }

  /** The response is complete: a body nobody reads is read and dropped, as node:http does. */
  finished(): void {
    this.answered = true;
    if (this.#bodyDone || this.#aborted) {
      this.#thread.forget(this);
      return;
    }
    if (this.#stream || this.#collect) return;
    this.#dumping = true;
    this.#read(this.#chunks.reduce((n, c) => n + c.length, 0));
    this.#chunks = [];
  }

  get bodyDone(): boolean {
    return this.#bodyDone;
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
