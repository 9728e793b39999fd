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
  /** Open-file cache: entries held now, lookups it answered, lookups that went to the disk. */
  fileCache: { entries: number; hits: number; misses: number };
}

export interface NativeEngine {
  start(): number;
  stop(graceMs: number): Promise<void>;
  stats(): ThreadStats[];
  respond(thread: number, answers: object[]): void;
}

interface Addon {
  NativeEngine: new (options: ResolvedOptions, dispatch?: (batch: never[]) => void) => NativeEngine;
}

const require = createRequire(import.meta.url);
export const addon = require('../build/Release/kevent_server.node') as Addon;
