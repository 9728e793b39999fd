// Files, loopback connections and completion collection for the aio tests.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { accept, aioStats, listen, localAddress } from '../dist/index.js';

export const MiB = 1 << 20;
export const GiB = 1 << 30;

export function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kevent-aio-'));
}

export function openFds() {
  return fs.readdirSync('/proc/self/fd').length;
}

/** A file of `size` bytes, random where `blocks` says ([offset, length]), holes elsewhere. */
export function sparseFile(dir, name, size, blocks) {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, size);
    for (const [offset, length] of blocks) fs.writeSync(fd, randomBytes(length), 0, length, offset);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

export async function fileHash(file, start = 0, end = Infinity) {
  const hash = createHash('sha256');
  const stream = fs.createReadStream(file, { start, end: end - 1, highWaterMark: 4 * MiB });
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

/** A loopback listener whose accepted sockets are this package's non-blocking fds. */
export function listener() {
  const fd = listen('127.0.0.1', 0);
  return { fd, port: localAddress(fd).port };
}

/** Waits (bounded) until `predicate()` holds; throws with `what` if it never does. */
export async function until(predicate, what, limitMs = 20000) {
  const deadline = Date.now() + limitMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(2);
  }
}

export async function acceptOne(lfd) {
  let got = null;
  await until(() => (got = accept(lfd)) !== null, 'a connection to accept');
  return got.fd;
}

/**
 * A node:net client on `port` that hashes what it receives. It starts paused when `paused`;
 * `done` resolves with { bytes, hash } at end of stream or { error } when it breaks.
 */
export async function reader(lst, { paused = false } = {}) {
  const socket = net.connect(lst.port, '127.0.0.1');
  if (paused) socket.pause();
  const hash = createHash('sha256');
  let bytes = 0;
  const done = new Promise((resolve) => {
    socket.on('data', (chunk) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    socket.on('end', () => {
      resolve({ bytes, hash: hash.digest('hex') });
      socket.end();
    });
    socket.on('error', (error) => resolve({ error, bytes }));
  });
  const fd = await acceptOne(lst.fd);
  return { socket, fd, done, received: () => bytes };
}

/** Collects completions from `queue.onReady` by cookie (the event's `user`). */
export function completions(queue) {
  const byCookie = new Map();
  let total = 0;
  queue.onReady((events) => {
    for (const ev of events) {
      const list = byCookie.get(ev.user) ?? [];
      list.push(ev);
      byCookie.set(ev.user, list);
      total++;
    }
  });
  return {
    byCookie,
    count: () => total,
    async of(cookie) {
      await until(() => byCookie.has(cookie), `the completion of job ${cookie}`);
      return byCookie.get(cookie)[0];
    },
    async all(cookies) {
      await until(() => cookies.every((c) => byCookie.has(c)), `${cookies.length} completions`, 60000);
      return cookies.map((c) => byCookie.get(c)[0]);
    },
  };
}

/** The pool has finished every job (none queued, running or parked). */
export function poolIdle() {
  return until(() => aioStats().jobs === 0, 'the aio pool to go idle');
}
