// The JS side of requests static files do not take. The engine hands over one batch per I/O
// thread turn (heads, body pieces, ends, aborts, send acks); answers and stream pieces go back
// to each thread in one call per batch or microtask checkpoint (wire: hook-wire.ts).
import type { Readable } from 'node:stream';
import { HookRequest, type HookThread } from './hook-request.js';
import { Cmd, CommandBuffer, Ev } from './hook-wire.js';
import type { NativeEngine } from './native.js';

export interface EngineRequest {
  readonly method: string;
  /** The request target as sent: path and query. */
  readonly url: string;
  readonly httpVersion: '1.0' | '1.1';
  /** Header names as the client wrote them, and values, alternating, in the order received. */
  readonly rawHeaders: string[];
  /** The first value of a header; `name` is compared without case. */
  header(name: string): string | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: 'IPv4' | 'IPv6';
  /**
   * The body as it arrives (chunked bodies decoded). Reading it is what lets the engine read
   * more from the client: a body nobody reads holds the client back, not memory.
   */
  readonly body: Readable;
  /** The whole body (bounded by maxBodySize); rejects with code ECONNRESET if the client goes. */
  buffer(): Promise<Buffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  /** Aborts when the client goes away before the response is complete. */
  readonly signal: AbortSignal;
  readonly aborted: boolean;
}

export type HeaderValue = string | number | readonly (string | number)[];

export interface EngineResponse {
  /** Default 200. */
  status?: number;
  /**
   * Names keep their case; an array value (or a repeated name in the list form) gives one
   * line each, as for Set-Cookie. Transfer-Encoding, Connection, Date and Server are the
   * engine's. Content-Length is the engine's for a string or Buffer body; for a stream it
   * declares the length, and a stream that ends short has its connection closed.
   */
  headers?: Record<string, HeaderValue> | ReadonlyArray<readonly [string, HeaderValue]>;
  /**
   * A string, bytes, or a stream (a Readable or any async iterable of strings/bytes), sent
   * chunked without a Content-Length on HTTP/1.1 and close-delimited on HTTP/1.0.
   */
  body?: string | Uint8Array | Readable | AsyncIterable<string | Uint8Array> | null;
}

/**
 * Called once per request. Return the response (or a promise of it). Returning the same
 * frozen object for many requests lets its headers be serialised once.
 */
export type RequestHandler = (req: EngineRequest) => EngineResponse | Promise<EngineResponse>;

/** Response bytes JS hands the engine before waiting for it to report them sent. */
const SEND_WINDOW = 256 * 1024;

interface Serialized {
  status: number;
  lines: string;
  length: number; // a declared Content-Length, or -1
}

function declaredLength(value: HeaderValue): number {
  const n = Number(Array.isArray(value) ? value[0] : value);
  if (!Number.isSafeInteger(n) || n < 0) throw Object.assign(new TypeError(`invalid Content-Length: ${String(value)}`), { code: 'ERR_HTTP_INVALID_HEADER_VALUE' });
  return n;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SPLITTING = /[\r\n\0]/;
// Names checked once: a handler uses few, again and again. Bounded against odd handlers.
const goodNames = new Set<string>();

function checkName(name: string, value: unknown): void {
  if (goodNames.has(name)) return;
  if (!TOKEN.test(name)) invalidHeader(name, value);
  if (goodNames.size < 1024) goodNames.add(name);
}

function invalidHeader(name: string, value: unknown): never {
  throw Object.assign(new TypeError(`invalid response header ${JSON.stringify(name)}: ${JSON.stringify(String(value))}`), {
    code: 'ERR_INVALID_CHAR',
  });
}

// One line per value; a CR, LF or NUL would let a value start a header of its own.
function addLine(lines: string, name: string, value: HeaderValue): string {
  checkName(name, value);
  if (typeof value !== 'object') {
    const v = String(value);
    if (SPLITTING.test(v)) invalidHeader(name, v);
    return lines + name + ': ' + v + '\r\n';
  }
  for (const item of value) {
    const v = String(item);
    if (SPLITTING.test(v)) invalidHeader(name, v);
    lines += name + ': ' + v + '\r\n';
  }
  return lines;
}

/** Header lines as the engine takes them ("Name: value\r\n"); it checks and filters them. */
function serialize(res: EngineResponse): Serialized {
  const headers = res.headers;
  let lines = '';
  let length = -1;
  if (headers) {
    if (Array.isArray(headers)) {
      for (const [name, value] of headers as ReadonlyArray<readonly [string, HeaderValue]>) {
        if (name.length === 14 && name.toLowerCase() === 'content-length') length = declaredLength(value);
        lines = addLine(lines, name, value);
      }
    } else {
      const record = headers as Record<string, HeaderValue>;
      for (const name in record) {
        const value = record[name];
        if (value === undefined) continue;
        if (name.length === 14 && name.toLowerCase() === 'content-length') length = declaredLength(value);
        lines = addLine(lines, name, value);
      }
    }
  }
  return { status: res.status ?? 200, lines, length };
}

function isStream(body: unknown): body is AsyncIterable<string | Uint8Array> {
  return typeof body === 'object' && body !== null && !(body instanceof Uint8Array) && Symbol.asyncIterator in body;
}

/** Builds the function the native engine calls with each batch. */
export function makeDispatch(handler: RequestHandler, engine: () => NativeEngine, onError: (err: unknown) => void) {
  const threads: ThreadHooks[] = [];
  let inBatch = false;
  let scheduled = false;
  const flushAll = () => {
    scheduled = false;
    const native = engine();
    for (const t of threads) t?.out.flush(native);
  };
  const schedule = () => {
    if (inBatch || scheduled) return;
    scheduled = true;
    queueMicrotask(flushAll);
  };
  // Serialisations of frozen response objects, which cannot change.
  const frozen = new WeakMap<EngineResponse, Serialized>();

  class ThreadHooks implements HookThread {
    readonly out: CommandBuffer;
    readonly live = new Map<number, HookRequest>();
    constructor(thread: number) {
      this.out = new CommandBuffer(thread);
    }
    schedule = schedule;
    track(req: HookRequest): void {
      if (req.tracked) return;
      req.tracked = true;
      this.live.set(req.rid, req);
    }
    forget(req: HookRequest): void {
      if (!req.tracked) return;
      req.tracked = false;
      this.live.delete(req.rid);
    }
  }

  const fail = (req: HookRequest, err: unknown) => {
    onError(err);
    if (req.aborted) return;
    const out = req.hookThread.out;
    out.push(Cmd.Fail, req.conn, req.rid, 0, 0, 0);
    req.hookThread.schedule();
    req.finished();
  };

  const respond = (req: HookRequest, res: EngineResponse | undefined | null) => {
    if (req.aborted) return;
    const r = res ?? {};
    const body = r.body;
    let head: Serialized;
    try {
      head = Object.isFrozen(r) ? (frozen.get(r) ?? setFrozen(r)) : serialize(r);
    } catch (err) {
      return fail(req, err);
    }
    const out = req.hookThread.out;
    if (isStream(body)) {
      out.push(Cmd.Head, req.conn, req.rid, head.status, out.item(head.lines), head.length);
      req.hookThread.schedule();
      req.hookThread.track(req);
      void pump(req, body);
      return;
    }
    const bytes = body == null ? -1 : typeof body === 'string' || body instanceof Uint8Array ? out.item(body) : NaN;
    if (Number.isNaN(bytes)) return fail(req, Object.assign(new TypeError('response body must be a string, bytes or a stream'), { code: 'ERR_INVALID_ARG_TYPE' }));
    out.push(Cmd.Answer, req.conn, req.rid, head.status, out.item(head.lines), bytes);
    req.hookThread.schedule();
    req.finished();
  };

  const setFrozen = (r: EngineResponse) => {
    const s = serialize(r);
    frozen.set(r, s);
    return s;
  };

  const pump = async (req: HookRequest, body: AsyncIterable<string | Uint8Array>) => {
    const out = req.hookThread.out;
    try {
      for await (const chunk of body) {
        if (req.aborted) break; // leaving the loop destroys a Readable
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (!(bytes instanceof Uint8Array)) throw Object.assign(new TypeError('stream chunks must be strings or bytes'), { code: 'ERR_INVALID_ARG_TYPE' });
        if (bytes.length === 0) continue;
        out.push(Cmd.Data, req.conn, req.rid, 0, out.item(bytes), 0);
        req.hookThread.schedule();
        req.inflight += bytes.length;
        if (req.inflight >= SEND_WINDOW) await new Promise<void>((resolve) => (req.onDrain = resolve));
        if (req.aborted) break;
      }
    } catch (err) {
      if (!req.aborted) return fail(req, err);
      return;
    }
    if (req.aborted) return;
    out.push(Cmd.Finish, req.conn, req.rid, 0, 0, 0);
    req.hookThread.schedule();
    req.finished();
  };

  const start = (req: HookRequest) => {
    let result: EngineResponse | Promise<EngineResponse>;
    try {
      result = handler(req);
    } catch (err) {
      return fail(req, err);
    }
    if (result && typeof (result as Promise<EngineResponse>).then === 'function') {
      req.hookThread.track(req);
      (result as Promise<EngineResponse>).then(
        (res) => respond(req, res),
        (err: unknown) => fail(req, err),
      );
    } else {
      respond(req, result as EngineResponse);
    }
  };

  return (thread: number, meta: Float64Array, data: Buffer) => {
    const t = (threads[thread] ??= new ThreadHooks(thread));
    const live = t.live;
    inBatch = true;
    try {
      for (let i = 0; i < meta.length; ) {
        switch (meta[i]) {
          case Ev.Request: {
            const req = new HookRequest(t, meta, i, data);
            i += HookRequest.span(meta, i);
            if (!req.bodyDone) t.track(req);
            start(req);
            break;
          }
          case Ev.Body:
            live.get(meta[i + 2])?.onBody(data.subarray(meta[i + 3], meta[i + 4]));
            i += 5;
            break;
          case Ev.End:
            live.get(meta[i + 2])?.onEnd();
            i += 3;
            break;
          case Ev.Abort:
            live.get(meta[i + 2])?.onAbort();
            i += 3;
            break;
          case Ev.Ack: {
            const req = live.get(meta[i + 2]);
            if (req) {
              req.inflight -= meta[i + 3];
              if (req.inflight < SEND_WINDOW && req.onDrain) {
                const drained = req.onDrain;
                req.onDrain = undefined;
                drained();
              }
            }
            i += 4;
            break;
          }
          default:
            throw new Error(`kevent: unknown hook record ${meta[i]} at ${i}`);
        }
      }
    } finally {
      inBatch = false;
      flushAll();
    }
  };
}
