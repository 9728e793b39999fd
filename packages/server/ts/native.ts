// Loads the compiled kevent_server addon (packages/server/build/Release).
import { createRequire } from 'node:module';
import type { ResolvedOptions } from './options.js';

export interface ThreadStats {
  /** Connections this I/O thread accepted since start. */
  accepted: number;
  /** Connections it holds now. */
  connections: number;
  /** Times it paused accepting (EMFILE/ENFILE, or maxConnections reached). */
  acceptPauses: number;
  /** Times it stepped out of accepting while holding well over its share of connections. */
  balancePauses: number;
  /** Access log records dropped because JS fell behind by more than accessLogLimit. */
  accessLogDropped: number;
  /**
   * Open-file cache: entries held now, lookups it answered, lookups that went to the disk,
   * and lookups of a small file whose bytes were not held and could not be read without
   * waiting (coldReads: pages not in the page cache, or a file system without RWF_NOWAIT):
   * the response went to the aio pool instead of a read on the I/O thread.
   */
  fileCache: { entries: number; hits: number; misses: number; coldReads: number };
}

export interface NativeEngine {
  start(): number;
  stop(graceMs: number): Promise<void>;
  stats(): ThreadStats[];
  /** Commands for I/O thread `thread` (layout in hook-wire.ts and src/native/dynamic.h). */
  /** `text`: the flush's strings joined; item -2 - k is its span [spans[2k], spans[2k+1]). */
  respond(thread: number, commands: Float64Array, count: number, items: Array<string | Uint8Array>, text?: string, spans?: Float64Array): void;
}

/** Called with each I/O thread batch: its records and the bytes they point into. */
export type NativeDispatch = (thread: number, meta: Float64Array, data: Buffer) => void;

interface Addon {
  NativeEngine: new (
    options: ResolvedOptions,
    dispatch?: NativeDispatch,
    /** Gets each batch as a JSON array of AccessLogEntry. */
    accessLog?: (json: string) => void,
  ) => NativeEngine;
}

const require = createRequire(import.meta.url);
export const addon = require('../build/Release/kevent_server.node') as Addon;
