// Large file bodies go to the aio pool (aio_sendfile): byte-exact past 4 GiB, ranges,
// pipelining behind a file, many at once, and every way a transfer can end early (the
// client aborts, stops reading, or the engine stops) without leaking a file descriptor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, openSync, writeSync, ftruncateSync, closeSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, get, raw, parseResponses } from '../testing/helpers.mjs';

const MiB = 1024 * 1024;
const TEN = randomBytes(10 * MiB);
const FOUR_GIB = 2 ** 32;
const SPARSE_SIZE = FOUR_GIB + 3 * MiB;
// Random marks in the sparse file, everything else reads as zeros: one straddling 4 GiB
// (where a 32-bit offset would wrap) and one at the very end.
const MARKS = [
  { at: 4096, bytes: randomBytes(64 * 1024) },
  { at: FOUR_GIB - 512 * 1024, bytes: randomBytes(MiB) },
  { at: SPARSE_SIZE - 100 * 1024, bytes: randomBytes(100 * 1024) },
];

const GIG_SIZE = 2 ** 30 + 12345;
const GIG_MARKS = [
  { at: 0, bytes: randomBytes(4096) },
  { at: 2 ** 29 - 1000, bytes: randomBytes(300 * 1024) },
  { at: GIG_SIZE - 5000, bytes: randomBytes(5000) },
];

// Expected bytes of [first, last] of a sparse file with `marks`.
function sparseSlice(first, last, marks = MARKS) {
  const out = Buffer.alloc(last - first + 1);
  for (const { at, bytes } of marks) {
    const from = Math.max(first, at);
    const to = Math.min(last + 1, at + bytes.length);
    if (from < to) bytes.copy(out, from - first, from - at, to - at);
  }
  return out;
}

const env = {};
before(async () => {
  env.base = mkdtempSync(path.join(tmpdir(), 'kevent-large-'));
  writeFileSync(path.join(env.base, 'ten.bin'), TEN);
  writeFileSync(path.join(env.base, 'small.txt'), 'small\n');
  const fd = openSync(path.join(env.base, 'sparse.bin'), 'w');
  ftruncateSync(fd, SPARSE_SIZE);
  for (const { at, bytes } of MARKS) writeSync(fd, bytes, 0, bytes.length, at);
  closeSync(fd);
  const gig = openSync(path.join(env.base, 'gig.bin'), 'w');
  ftruncateSync(gig, GIG_SIZE);
  for (const { at, bytes } of GIG_MARKS) writeSync(gig, bytes, 0, bytes.length, at);
  closeSync(gig);
  // No open-file cache: its fds stay open by design, and these tests count the fds that a
  // response holds (file-cache.test.mjs bounds the cache's own).
  Object.assign(env, await startServer(env.base, { threads: 2, sendTimeout: 500, fileCacheEntries: 0 }));
  // The aio pool (its private queue) starts with the first file job: before any fd count.
  await get(env.port, '/ten.bin');
});
after(async () => {
  await env.engine?.stop();
  rmSync(env.base, { recursive: true, force: true });
});

// What a transfer could leak, in this process (server and clients alike): sockets, and fds
// of the files served.
function openFds() {
  const fds = { sockets: 0, files: 0 };
  for (const fd of readdirSync('/proc/self/fd')) {
    let link;
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // readdir's own fd, gone already
    }
    if (link.startsWith('socket:')) fds.sockets++;
    else if (link.startsWith(env.base + path.sep)) fds.files++;
  }
  return fds;
}

// Closes finish on pool threads and lingering connections a little after the client sees
// its end: wait (bounded) for the count to come down to `want`, then report it.
async function fdsSettle(want) {
  let now = openFds();
  for (let i = 0; i < 100 && (now.sockets > want.sockets || now.files > want.files); i++) {
    await sleep(50);
    now = openFds();
  }
  return now;
}

// The count with nothing in flight: no connection open (lingering ones from earlier tests
// included) and no file job holding a file.
async function settledFds() {
  const busy = () => env.engine.stats().some((t) => t.connections > 0) || openFds().files > 0;
  for (let i = 0; i < 100 && busy(); i++) await sleep(50);
  return openFds();
}

// One request on its own connection, read at the reader's pace. Resolves the head, the body
// (or its hash and length when `hash`), and whether the server closed.
function fetchRaw(port, request, { pauseEvery = 0, pauseMs = 0, hash = false } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(request));
    let head = null;
    let pending = Buffer.alloc(0);
    const body = [];
    const digest = createHash('sha256');
    let length = 0;
    let sincePause = 0;
    sock.on('data', (d) => {
      if (!head) {
        pending = Buffer.concat([pending, d]);
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = pending.subarray(0, end).toString('latin1');
        d = pending.subarray(end + 4);
      }
      length += d.length;
      if (hash) digest.update(d);
      else body.push(d);
      sincePause += d.length;
      if (pauseEvery && sincePause >= pauseEvery) {
        sincePause = 0;
        sock.pause();
        setTimeout(() => sock.resume(), pauseMs);
      }
      const total = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? -1);
      if (length >= total) sock.end();
    });
    sock.on('error', reject);
    sock.on('close', () => {
      resolve({
        head,
        status: head ? Number(head.split(' ')[1]) : 0,
        length,
        body: hash ? null : Buffer.concat(body),
        sha256: hash ? digest.digest('hex') : null,
      });
    });
  });
}

const req = (target, extra = '') => `GET ${target} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

test('a 10 MiB file arrives byte-exact with its length', async () => {
  const res = await fetchRaw(env.port, req('/ten.bin', 'Connection: close\r\n'));
  assert.equal(res.status, 200);
  assert.match(res.head, /Content-Length: 10485760\r\n/);
  assert.ok(res.body.equals(TEN));
});

test('a file above 4 GiB: its length, and ranges across and past 4 GiB, byte-exact', async () => {
  const head = await get(env.port, '/sparse.bin', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(SPARSE_SIZE));
  const ranges = [
    [FOUR_GIB - 600 * 1024, FOUR_GIB + 700 * 1024], // across the 32-bit boundary
    [FOUR_GIB + MiB, FOUR_GIB + MiB + 99], // entirely past it
  ];
  for (const [first, last] of ranges) {
    const res = await get(env.port, '/sparse.bin', { Range: `bytes=${first}-${last}` });
    assert.equal(res.status, 206);
    assert.equal(res.headers['content-range'], `bytes ${first}-${last}/${SPARSE_SIZE}`);
    assert.ok(res.body.equals(sparseSlice(first, last)), `bytes ${first}-${last}`);
  }
  const suffix = await get(env.port, '/sparse.bin', { Range: 'bytes=-300000' });
  assert.equal(suffix.status, 206);
  assert.ok(suffix.body.equals(sparseSlice(SPARSE_SIZE - 300000, SPARSE_SIZE - 1)));
  const open = await get(env.port, '/sparse.bin', { Range: `bytes=${SPARSE_SIZE - 200000}-` });
  assert.equal(open.headers['content-range'], `bytes ${SPARSE_SIZE - 200000}-${SPARSE_SIZE - 1}/${SPARSE_SIZE}`);
  assert.ok(open.body.equals(sparseSlice(SPARSE_SIZE - 200000, SPARSE_SIZE - 1)));
});

test('a slow reader gets 42 MiB across 4 GiB byte-exact (the job parks and resumes)', async () => {
  const first = FOUR_GIB - 40 * MiB;
  const last = FOUR_GIB + 2 * MiB - 1;
  const res = await fetchRaw(env.port, req('/sparse.bin', `Range: bytes=${first}-${last}\r\nConnection: close\r\n`), {
    pauseEvery: 4 * MiB,
    pauseMs: 40,
    hash: true,
  });
  assert.equal(res.status, 206);
  assert.equal(res.length, last - first + 1);
  assert.equal(res.sha256, sha256(sparseSlice(first, last)));
});

test('a whole 1 GiB file to a reader that keeps pausing arrives byte-exact', async () => {
  const sock = net.connect(env.port, '127.0.0.1', () => sock.write(req('/gig.bin', 'Connection: close\r\n')));
  let head = Buffer.alloc(0);
  let headText = '';
  let pos = -1; // file offset of the next body byte, once the head is through
  let mismatch = null;
  let sincePause = 0;
  await new Promise((resolve, reject) => {
    sock.on('error', reject);
    sock.on('close', resolve);
    sock.on('data', (d) => {
      if (pos < 0) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        headText = head.subarray(0, end).toString('latin1');
        d = head.subarray(end + 4);
        pos = 0;
      }
      // memcmp per chunk: cheaper than hashing a gigabyte.
      if (!mismatch && d.length && !d.equals(sparseSlice(pos, pos + d.length - 1, GIG_MARKS))) mismatch = pos;
      pos += d.length;
      sincePause += d.length;
      if (sincePause >= 64 * MiB) {
        sincePause = 0;
        sock.pause();
        setTimeout(() => sock.resume(), 20);
      }
    });
  });
  assert.match(headText, /^HTTP\/1\.1 200 /);
  assert.match(headText, new RegExp(`\r\nContent-Length: ${GIG_SIZE}(\r\n|$)`));
  assert.equal(mismatch, null, `bytes differ in the chunk at ${mismatch}`);
  assert.equal(pos, GIG_SIZE);
});

test('a keep-alive client still gets its next request answered after a download longer than idleTimeout', async () => {
  const own = await startServer(env.base, { threads: 1, idleTimeout: 500 });
  try {
    const sock = net.connect(own.port, '127.0.0.1', () => sock.write(req('/sparse.bin', 'Range: bytes=0-16777215\r\n')));
    const want = 16 * MiB;
    let buf = Buffer.alloc(0);
    let got = 0;
    let headEnd = -1;
    // Paced well past idleTimeout: 100 ms pauses every MiB.
    await new Promise((resolve, reject) => {
      sock.on('error', reject);
      sock.on('data', (d) => {
        if (headEnd < 0) {
          buf = Buffer.concat([buf, d]);
          headEnd = buf.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          got = buf.length - headEnd - 4;
        } else {
          got += d.length;
        }
        if (got >= want) return resolve();
        if (got % MiB < d.length) {
          sock.pause();
          setTimeout(() => sock.resume(), 100);
        }
      });
    });
    assert.equal(got, want);
    await sleep(50);
    const next = new Promise((resolve) => {
      let text = '';
      sock.removeAllListeners('data');
      sock.on('data', (d) => {
        text += d.toString('latin1');
        if (text.endsWith('small\n')) resolve(text);
      });
      sock.on('close', () => resolve(text));
    });
    sock.write(req('/small.txt'));
    assert.match(await next, /^HTTP\/1\.1 200 /);
    sock.destroy();
  } finally {
    await own.engine.stop({ grace: 0 });
  }
});

test('20 concurrent 10 MiB downloads all arrive intact', async () => {
  const want = sha256(TEN);
  const all = await Promise.all(
    Array.from({ length: 20 }, () => fetchRaw(env.port, req('/ten.bin', 'Connection: close\r\n'), { hash: true })),
  );
  for (const res of all) {
    assert.equal(res.status, 200);
    assert.equal(res.length, TEN.length);
    assert.equal(res.sha256, want);
  }
});

test('pipelined requests behind a large file are answered in order', async () => {
  const { buf } = await raw(
    env.port,
    req('/ten.bin') + req('/small.txt') + req('/ten.bin', 'Range: bytes=5-9\r\n') + req('/small.txt', 'Connection: close\r\n'),
    { timeout: 10000 },
  );
  const res = parseResponses(buf);
  assert.deepEqual(res.map((r) => r.status), [200, 200, 206, 200]);
  assert.ok(res[0].body.equals(TEN));
  assert.equal(res[1].text, 'small\n');
  assert.ok(res[2].body.equals(TEN.subarray(5, 10)));
  assert.equal(res[3].text, 'small\n');
});

test('clients that abort mid-file leave no file descriptor behind', async () => {
  const baseline = await settledFds();
  await Promise.all(
    Array.from({ length: 8 }, () => new Promise((resolve) => {
      const sock = net.connect(env.port, '127.0.0.1', () => sock.write(req('/sparse.bin')));
      let got = 0;
      sock.on('data', (d) => {
        got += d.length;
        if (got > 2 * MiB) sock.destroy(); // unread data: the kernel answers the server with RST
      });
      sock.on('error', () => {});
      sock.on('close', resolve);
    })),
  );
  assert.deepEqual(await fdsSettle(baseline), baseline);
  assert.equal((await get(env.port, '/small.txt')).status, 200);
});

test('a client that stops reading a large file is closed by the send timeout, fds released', async () => {
  const baseline = await settledFds();
  const sock = net.connect(env.port, '127.0.0.1', () => sock.write(req('/sparse.bin')));
  let got = 0;
  let ended = false;
  await new Promise((resolve) => sock.once('data', (d) => {
    got += d.length;
    sock.pause(); // stop reading: the window closes and the job parks for good
    resolve();
  }));
  sock.on('end', () => { ended = true; });
  // The client's own socket is the one fd left: the server's socket, its pool duplicates and
  // the file are closed.
  const withClient = { sockets: baseline.sockets + 1, files: 0 };
  assert.deepEqual(await fdsSettle(withClient), withClient);
  sock.on('data', (d) => { got += d.length; });
  sock.resume();
  await new Promise((resolve) => sock.on('close', resolve));
  assert.ok(ended, 'the server closed the connection');
  assert.ok(got < SPARSE_SIZE, 'the body was cut short');
  assert.deepEqual(await fdsSettle(baseline), baseline);
});

test('stopping the engine during a large send cuts it and releases every fd', async () => {
  const baseline = await settledFds();
  const own = await startServer(env.base, { threads: 1 });
  const sock = net.connect(own.port, '127.0.0.1', () => sock.write(req('/sparse.bin')));
  let got = 0;
  await new Promise((resolve) => sock.once('data', (d) => {
    got += d.length;
    sock.pause();
    resolve();
  }));
  await own.engine.stop({ grace: 0 });
  sock.on('data', (d) => { got += d.length; });
  sock.resume();
  await new Promise((resolve) => sock.on('close', resolve));
  assert.ok(got < SPARSE_SIZE, 'the body was cut short');
  assert.deepEqual(await fdsSettle(baseline), baseline);
});
