// The JS side of requests static files do not take: the engine hands over a batch per I/O
// thread turn; answers go back to each thread in one call per microtask checkpoint.
import type { NativeEngine } from './native.js';

export interface EngineRequest {
  method: string;
  url: string;
  httpVersion: '1.0' | '1.1';
  /** Header names (lower-cased) and values, alternating, in the order received. */
  rawHeaders: string[];
  /** The whole request body (chunked bodies decoded), bounded by maxBodySize. */
  body: Buffer;
}

export interface EngineResponse {
  /** Default 200. */
  status?: number;
  /** Content-Length, Connection, Date and Server are the engine's own and are ignored. */
  headers?: Record<string, string | number> | Array<[string, string | number]>;
  body?: string | Uint8Array;
}

export type RequestHandler = (req: EngineRequest) => EngineResponse | Promise<EngineResponse>;

/** What the native side hands over and gets back (see src/native/addon.cc). */
export interface NativeRequest extends EngineRequest {
  thread: number;
  conn: number;
  seq: number;
}

interface NativeAnswer {
  conn: number;
  seq: number;
  status: number;
  headers: string[];
  body: string | Uint8Array;
}

function flatHeaders(headers: EngineResponse['headers']): string[] {
  if (!headers) return [];
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  return entries.flatMap(([name, value]) => [name, String(value)]);
}

/** Builds the function the native engine calls with each batch. */
export function makeDispatch(handler: RequestHandler, engine: () => NativeEngine, onError: (err: unknown) => void) {
  const outgoing = new Map<number, NativeAnswer[]>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const native = engine();
    for (const [thread, answers] of outgoing) native.respond(thread, answers);
    outgoing.clear();
  };
  const answer = (req: NativeRequest, res: NativeAnswer) => {
    let list = outgoing.get(req.thread);
    if (!list) outgoing.set(req.thread, (list = []));
    list.push(res);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
  };
  return (batch: NativeRequest[]) => {
    for (const req of batch) {
      let result: EngineResponse | Promise<EngineResponse>;
      try {
        result = handler(req);
      } catch (err) {
        result = Promise.reject(err);
      }
      Promise.resolve(result).then(
        (res) => {
          answer(req, {
            conn: req.conn,
            seq: req.seq,
            status: res?.status ?? 200,
            headers: flatHeaders(res?.headers),
            body: res?.body ?? '',
          });
        },
        (err: unknown) => {
          onError(err);
          answer(req, { conn: req.conn, seq: req.seq, status: 500, headers: [], body: '500 Internal Server Error\n' });
        },
      );
    }
  };
}
