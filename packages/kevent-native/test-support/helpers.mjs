// Shared by the tests: real TCP connections on 127.0.0.1 made with our own socket calls.
import { setTimeout as sleep } from 'node:timers/promises';
import * as k from '../dist/index.js';

/** Polls `fn` until it returns a non-null value; bounded so a broken test fails, not hangs. */
export async function eventually(fn, what, tries = 400) {
  for (let i = 0; i < tries; i++) {
    const v = fn();
    if (v !== null && v !== undefined && v !== false) return v;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A listening socket and one established connection: { lfd, port, client, server }. */
export async function tcpPair() {
  const lfd = k.listen('127.0.0.1', 0, { backlog: 64 });
  const { port } = k.localAddress(lfd);
  const client = k.connect('127.0.0.1', port);
  const accepted = await eventually(() => k.accept(lfd), 'accept');
  return { lfd, port, client, server: accepted.fd, close: () => [lfd, client, accepted.fd].forEach(safeClose) };
}

export function safeClose(fd) {
  try { k.close(fd); } catch { /* already closed by the test */ }
}

/** Writes until the kernel would block, to fill a socket or pipe buffer. */
export function fill(fd, write = k.send) {
  const chunk = Buffer.alloc(65536, 0x61);
  let total = 0;
  for (let n; (n = write(fd, chunk)) !== null;) total += n;
  return total;
}

/** Reads until the kernel would block; returns the bytes read. */
export function drain(fd, read = k.recv) {
  const buf = Buffer.alloc(65536);
  let total = 0;
  for (let n; (n = read(fd, buf)) !== null && n > 0;) total += n;
  return total;
}
