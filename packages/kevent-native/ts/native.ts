// Loads the compiled addon. The layout constants it exports are the source of truth for the
// ring format shared with the C++ core.
import { createRequire } from 'node:module';
import type { AioStats } from './aio.js';
import type { Ukevent } from './ukevent.js';

export interface NativeQueue {
  ctl(cmd: number, ukevents?: Ukevent[]): number;
  getEvents(minNr: number, maxNr: number, timeoutMs?: number, flags?: number): Ukevent[];
  wait(num: number, oldUidx: number, timeoutMs?: number, flags?: number): number;
  commit(newUidx: number, over: number): number;
  close(): void;
  share(): number;
  startPoll(callback: () => void): void;
  stopPoll(): void;
  setPollRef(ref: boolean): void;
  pathOf(id: number): string;
  readonly fd: number;
  readonly closed: boolean;
}

export interface AcceptedSocket {
  fd: number;
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6' | 'unix';
}

export interface SocketAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6' | 'unix';
}

export interface NativeAddon {
  NativeQueue: new (ring: Int32Array | null, shareId?: number) => NativeQueue;
  RING_HEADER_BYTES: number;
  RING_SLOT_BYTES: number;
  listen(host: string, port: number, options?: { backlog?: number; reusePort?: boolean }): number;
  connect(host: string, port: number): number;
  accept(fd: number): AcceptedSocket | null;
  localAddress(fd: number): SocketAddress;
  recv(fd: number, buffer: Uint8Array): number | null;
  send(fd: number, buffer: Uint8Array): number | null;
  read(fd: number, buffer: Uint8Array): number | null;
  write(fd: number, buffer: Uint8Array): number | null;
  writev(fd: number, buffers: Uint8Array[]): number | null;
  shutdown(fd: number, how?: 'read' | 'write' | 'both'): void;
  close(fd: number): void;
  setNoDelay(fd: number, enable?: boolean): void;
  setCork(fd: number, enable?: boolean): void;
  pipe(): [number, number];
  socketpair(): [number, number];
  aioSendfile(queue: object, sockFd: number, inFd: number, offset: number | bigint, count: number | bigint): number;
  aioSendfilePath(
    queue: object, sockFd: number, header: Uint8Array | null, path: string, offset: number | bigint, count: number | bigint,
  ): number;
  configureAio(options: { threads?: number }): AioStats;
  aioStats(): AioStats;
  AIO_DEFAULT_THREADS: number;
}

const require = createRequire(import.meta.url);

function load(): NativeAddon {
  const candidates = ['../build/Release/kevent_native.node', '../build/Debug/kevent_native.node'];
  let firstError: unknown;
  for (const path of candidates) {
    try {
      return require(path) as NativeAddon;
    } catch (error) {
      firstError ??= error;
    }
  }
  const error = new Error(
    `@kevent/native: the native addon is not built (run "pnpm build" in packages/kevent-native): ${String(firstError)}`,
  ) as Error & { code: string };
  error.code = 'ERR_KEVENT_NOT_BUILT';
  throw error;
}

export const native: NativeAddon = load();
