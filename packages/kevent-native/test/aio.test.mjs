import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AIO_DEFAULT_THREADS, KEVENT_AIO, KEVENT_AIO_BIO, KEVENT_RET_BROKEN, KEVENT_RET_DONE, Queue,
  aioSendfile, aioSendfilePath, aioStats, close, configureAio, connect, shutdown,
} from '../dist/index.js';
import {
  GiB, MiB, acceptOne, completions, fileHash, listener, openFds, poolIdle, reader, sparseFile, tempDir, until,
} from '../test-support/aio-fixtures.mjs';

const BROKEN = KEVENT_RET_DONE | KEVENT_RET_BROKEN;

describe('aio_sendfile', () => {
  let dir, lst, queue, done, file10, hash10;

  before(async () => {
    dir = tempDir();
    file10 = path.join(dir, 'ten.bin');
    fs.writeFileSync(file10, randomBytes(10 * MiB));
    hash10 = await fileHash(file10);
    lst = listener();
    queue = new Queue();
    done = completions(queue);
    configureAio({ threads: 0 });  // starts the pool (its poller queue holds fds) before any fd count
  });

  after(() => {
    queue.close();
    close(lst.fd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a 10 MiB file arrives byte-exact through a slow reader, with one completion', async () => {
    const parksBefore = aioStats().parks;
    const r = await reader(lst, { paused: true });
    const inFd = fs.openSync(file10, 'r');
    const cookie = aioSendfile(queue, r.fd, inFd, 0, 0);
    // The job owns duplicates: the caller's fds may go at once, and our close is what ends
    // the stream once the job lets go of its copy.
    fs.closeSync(inFd);
    close(r.fd);
    await until(() => aioStats().parked === 1, 'the job to park on the full socket');
    assert.equal(aioStats().busy, 0, 'no pool thread waits on a parked job');
    // Slow reader: 20 ms pause per MiB.
    let nextPause = MiB;
    r.socket.on('data', () => {
      if (r.received() >= nextPause) {
        nextPause += MiB;
        r.socket.pause();
        setTimeout(() => r.socket.resume(), 20);
      }
    });
    r.socket.resume();
    const got = await r.done;
    assert.deepEqual(got, { bytes: 10 * MiB, hash: hash10 });
    const ev = await done.of(cookie);
    assert.equal(ev.type, KEVENT_AIO);
    assert.equal(ev.event, KEVENT_AIO_BIO);
    assert.equal(ev.retFlags, KEVENT_RET_DONE);
    assert.equal(ev.retData, 10 * MiB);
    assert.equal(ev.id, r.fd, "the event's id is the caller's socket fd");
    assert.ok(aioStats().parks > parksBefore);
    await sleep(20);
    assert.equal(done.byCookie.get(cookie).length, 1, 'exactly one completion');
  });

  test('a parked job holds no thread: with one pool thread a second transfer completes meanwhile', async () => {
    configureAio({ threads: 1 });
    try {
      assert.equal(aioStats().threads, 1);
      const stuck = await reader(lst, { paused: true });
      const a = aioSendfilePath(queue, stuck.fd, null, file10);
      await until(() => aioStats().parked === 1, 'the first job to park');
      const live = await reader(lst);
      const b = aioSendfilePath(queue, live.fd, null, file10);
      const evB = await done.of(b);
      assert.equal(evB.retData, 10 * MiB);
      assert.equal(done.byCookie.has(a), false, 'the first job is still waiting for its reader');
      assert.equal(aioStats().parked, 1);
      stuck.socket.resume();
      const evA = await done.of(a);
      assert.equal(evA.retFlags, KEVENT_RET_DONE);
      assert.equal(evA.retData, 10 * MiB);
      close(stuck.fd);
      close(live.fd);
      assert.equal((await stuck.done).hash, hash10);
      assert.equal((await live.done).hash, hash10);
    } finally {
      configureAio({ threads: 0 });
    }
    assert.equal(aioStats().threads, AIO_DEFAULT_THREADS);
  });

  test('a 1 GiB sparse file arrives byte-exact; the header goes first', async () => {
    const big = sparseFile(dir, 'gib.bin', GiB, [[0, MiB], [333 * MiB + 7, MiB], [GiB - MiB, MiB]]);
    const header = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n');
    const expected = createHash('sha256').update(header);
    for await (const chunk of fs.createReadStream(big, { highWaterMark: 4 * MiB })) expected.update(chunk);
    const r = await reader(lst, { paused: true });
    const cookie = aioSendfilePath(queue, r.fd, header, big, 0, 0);
    await until(() => aioStats().parked === 1, 'the job to park');
    r.socket.resume();
    const ev = await done.of(cookie);
    close(r.fd);
    const got = await r.done;
    assert.equal(ev.retFlags, KEVENT_RET_DONE);
    assert.equal(ev.retData, GiB, 'retData counts file bytes, not the header');
    assert.equal(got.bytes, header.length + GiB);
    assert.equal(got.hash, expected.digest('hex'));
    fs.rmSync(big);
  });

  test('a cold file is read ahead on the pool while the header is still going out', async (t) => {
    const cold = path.join(dir, 'cold.bin');
    const fd = fs.openSync(cold, 'w');
    fs.writeSync(fd, randomBytes(8 * MiB));
    fs.fsyncSync(fd);  // dirty pages cannot be dropped
    fs.closeSync(fd);
    const resident = () => Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', cold]));
    execFileSync('dd', [`if=${cold}`, 'iflag=nocache', 'count=0', 'status=none']);  // posix_fadvise DONTNEED
    if (resident() > 0) return t.skip('this file system keeps the file in memory (tmpfs?)');
    // A header larger than both socket buffers: the job parks before sendfile reads a byte,
    // so every page in the cache is there because the pool asked for it.
    const header = Buffer.alloc(32 * MiB, 'h');
    const r = await reader(lst, { paused: true });
    const cookie = aioSendfilePath(queue, r.fd, header, cold);
    await until(() => aioStats().parked === 1, 'the job to park in its header');
    await until(() => resident() >= MiB, 'the first window of the file in the page cache');
    assert.ok(resident() < 8 * MiB, 'only a window ahead is read, not the whole file');
    r.socket.resume();
    const ev = await done.of(cookie);
    close(r.fd);
    assert.equal(ev.retData, 8 * MiB);
    assert.equal((await r.done).bytes, 40 * MiB);
  });

  test('64-bit offsets: a range past 4 GiB, count past EOF, count 0, offset past EOF', async () => {
    const size = 4 * GiB + 2 * MiB;
    const markAt = 4 * GiB + MiB;
    const huge = sparseFile(dir, 'huge.bin', size, [[markAt, MiB]]);
    const markHash = await fileHash(huge, markAt, size);
    const cases = [
      { offset: markAt, count: 0, bytes: MiB, hash: markHash },
      { offset: BigInt(markAt), count: 10n * BigInt(GiB), bytes: MiB, hash: markHash },
      { offset: markAt + 100, count: 1000, bytes: 1000, hash: await fileHash(huge, markAt + 100, markAt + 1100) },
      { offset: size + 5, count: 0, bytes: 0, hash: createHash('sha256').digest('hex') },
    ];
    const inFd = fs.openSync(huge, 'r');
    for (const c of cases) {
      const r = await reader(lst);
      const cookie = aioSendfile(queue, r.fd, inFd, c.offset, c.count);
      const ev = await done.of(cookie);
      close(r.fd);
      assert.equal(ev.retFlags, KEVENT_RET_DONE);
      assert.equal(ev.retData, c.bytes, `offset ${c.offset} count ${c.count}`);
      assert.deepEqual(await r.done, { bytes: c.bytes, hash: c.hash });
    }
    fs.closeSync(inFd);
    fs.rmSync(huge);
  });

  test('500 concurrent transfers complete, each header and body intact', async () => {
    const body = path.join(dir, 'body.bin');
    fs.writeFileSync(body, randomBytes(256 * 1024));
    const bodyBytes = fs.readFileSync(body);
    const readers = [];
    for (let i = 0; i < 500; i++) readers.push(await reader(lst));
    const fdsWithReaders = openFds();
    const cookies = readers.map((r, i) => aioSendfilePath(queue, r.fd, Buffer.from(`job ${i}\n`), body));
    const events = await done.all(cookies);
    for (const ev of events) {
      assert.equal(ev.retFlags, KEVENT_RET_DONE);
      assert.equal(ev.retData, bodyBytes.length);
    }
    for (const r of readers) close(r.fd);
    const results = await Promise.all(readers.map((r) => r.done));
    results.forEach((got, i) => {
      const want = createHash('sha256').update(`job ${i}\n`).update(bodyBytes).digest('hex');
      assert.equal(got.hash, want, `connection ${i}`);
    });
    await poolIdle();
    assert.ok(openFds() <= fdsWithReaders, 'the jobs released their fd duplicates');
  });

  test('a missing file, a directory, a FIFO, bad fds and a non-socket end BROKEN with the errno', async () => {
    const r = await reader(lst);
    const inFd = fs.openSync(file10, 'r');
    const closedFd = 1_000_000;  // above this project's ulimit -n: never open
    const fifo = path.join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const cases = [
      [aioSendfilePath(queue, r.fd, Buffer.from('x'), path.join(dir, 'nope.bin')), 'ENOENT'],
      // No writer ever opens it: a blocking open would hold the pool thread for good.
      [aioSendfilePath(queue, r.fd, null, fifo), 'EINVAL'],
      [aioSendfilePath(queue, r.fd, null, dir), 'EISDIR'],
      [aioSendfile(queue, r.fd, closedFd, 0, 0), 'EBADF'],
      [aioSendfile(queue, closedFd, inFd, 0, 0), 'EBADF'],
      [aioSendfile(queue, inFd, inFd, 0, 0), 'ENOTSOCK'],
    ];
    for (const [cookie, code] of cases) {
      const ev = await done.of(cookie);
      assert.equal(ev.retFlags, BROKEN, code);
      assert.equal(ev.code, code);
      assert.equal(ev.retData, 0);
    }
    fs.closeSync(inFd);
    close(r.fd);
    assert.equal((await r.done).bytes, 0, 'the failed path sent nothing, not even its header');
  });

  for (const how of ['resets', 'closes']) {
    test(`the peer ${how} mid-transfer: BROKEN with EPIPE or ECONNRESET and the bytes sent`, async () => {
      const r = await reader(lst, { paused: true });
      const cookie = aioSendfilePath(queue, r.fd, null, file10);
      await until(() => aioStats().parked === 1, 'the job to park');
      if (how === 'resets') r.socket.resetAndDestroy();
      else r.socket.destroy();
      const ev = await done.of(cookie);
      close(r.fd);
      assert.equal(ev.retFlags, BROKEN);
      assert.ok(['EPIPE', 'ECONNRESET'].includes(ev.code), ev.code);
      assert.ok(ev.retData > 0 && ev.retData < 10 * MiB, `sent ${ev.retData}`);
      await poolIdle();
    });
  }

  test('EPIPE comes as an event, never as a SIGPIPE to the process', async () => {
    let raised = 0;
    const onPipe = () => raised++;
    process.on('SIGPIPE', onPipe);  // libuv's handler now catches what Node would ignore
    try {
      const r = await reader(lst);
      shutdown(r.fd, 'write');
      const ev = await done.of(aioSendfilePath(queue, r.fd, null, file10));
      close(r.fd);
      assert.equal(ev.retFlags, BROKEN);
      assert.equal(ev.code, 'EPIPE');
      await sleep(50);  // a raised signal reaches JS on the next loop turn
      assert.equal(raised, 0);
    } finally {
      process.off('SIGPIPE', onPipe);
    }
  });

  test('1000 aborted transfers leak no fd and free every pool slot', async () => {
    const sparse = sparseFile(dir, 'sixty-four.bin', 64 * MiB, []);
    const inFd = fs.openSync(sparse, 'r');
    await poolIdle();
    const before = openFds();
    const completedBefore = aioStats().completed;
    const cookies = [];
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 100; i++) {
        const client = connect('127.0.0.1', lst.port);
        const server = await acceptOne(lst.fd);
        close(client);  // gone before the first byte: the first send draws a reset
        cookies.push(aioSendfile(queue, server, inFd, 0, 0));
        close(server);
      }
      await done.all(cookies);
    }
    const events = await done.all(cookies);
    for (const ev of events) {
      assert.equal(ev.retFlags, BROKEN);
      assert.ok(['EPIPE', 'ECONNRESET'].includes(ev.code), ev.code);
    }
    await poolIdle();
    const st = aioStats();
    assert.equal(st.completed - completedBefore, 1000);
    assert.deepEqual([st.busy, st.queued, st.parked], [0, 0, 0]);
    assert.equal(openFds(), before);
    fs.closeSync(inFd);
  });

  test('closing the queue cancels its parked and queued jobs: no completion, no fd left', async () => {
    await poolIdle();
    const doomed = new Queue();  // its epoll fd closes when it is collected, not at close()
    const fdsBefore = openFds();
    const { cancelled, completed } = aioStats();
    configureAio({ threads: 1 });
    const readers = [];
    try {
      for (let i = 0; i < 20; i++) {
        const r = await reader(lst, { paused: true });
        readers.push(r);
        aioSendfilePath(doomed, r.fd, Buffer.from('h'), file10);
      }
      await until(() => aioStats().parked === 20, 'twenty parked jobs');
      // More to readers that do read: one runs, the rest wait for the one thread. They are
      // submitted and cancelled in the same tick, so none can finish its 10 MiB first.
      const active = [];
      for (let i = 0; i < 10; i++) active.push(await reader(lst));
      readers.push(...active);
      for (const r of active) aioSendfilePath(doomed, r.fd, null, file10);
      doomed.close();
      await poolIdle();
    } finally {
      configureAio({ threads: 0 });
    }
    const st = aioStats();
    try {
      assert.equal(st.cancelled - cancelled, 30);
      assert.equal(st.completed, completed);
      assert.throws(() => doomed.getEvents(0, 10, 0), { code: 'EBADF' });
    } finally {
      // Also when an assertion failed: open sockets would keep this file's process alive.
      for (const r of readers) {
        close(r.fd);
        r.socket.destroy();
      }
    }
    await until(() => openFds() <= fdsBefore, 'the sockets to close');
    // The pool still serves other queues.
    const r = await reader(lst);
    const ev = await done.of(aioSendfilePath(queue, r.fd, null, file10));
    close(r.fd);
    assert.equal(ev.retData, 10 * MiB);
    assert.equal((await r.done).hash, hash10);
  });

  test('completions reach a blocking getEvents and the ring (wait + take)', async () => {
    const q = new Queue({ ringSize: 16 });
    const client = connect('127.0.0.1', lst.port);
    const server = await acceptOne(lst.fd);
    const small = path.join(dir, 'small.bin');
    fs.writeFileSync(small, randomBytes(4096));
    const first = aioSendfilePath(q, server, null, small);
    const [ev] = q.getEvents(1, 1, 10000);  // this thread sleeps until the pool posts
    assert.deepEqual([ev.type, ev.user, ev.retFlags, ev.retData], [KEVENT_AIO, first, KEVENT_RET_DONE, 4096]);
    const second = aioSendfilePath(q, server, Buffer.from('x'), small, 0, 100);
    const missing = aioSendfilePath(q, server, null, path.join(dir, 'missing'));
    const seen = [];
    while (seen.length < 2) {
      q.wait(2, q.ring.uidx, 10000);
      seen.push(...q.ring.take());
    }
    const byUser = new Map(seen.map((e) => [e.user, e]));
    assert.equal(byUser.get(second).retData, 100);
    assert.equal(byUser.get(second).retFlags, KEVENT_RET_DONE);
    assert.equal(byUser.get(missing).retFlags, BROKEN);
    assert.equal(byUser.get(missing).code, 'ENOENT');
    close(client);
    close(server);
    q.close();
  });

  test('misuse throws at once with a code', () => {
    const closedQueue = new Queue();
    closedQueue.close();
    assert.throws(() => aioSendfile(closedQueue, 1, 2, 0, 0), { code: 'EBADF' });
    assert.throws(() => aioSendfile({}, 1, 2, 0, 0), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => aioSendfile(queue, '1', 2, 0, 0), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => aioSendfile(queue, 1.5, 2, 0, 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => aioSendfile(queue, 1, -2, 0, 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => aioSendfile(queue, 1, 2, -1, 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => aioSendfile(queue, 1, 2, -1n, 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => aioSendfile(queue, 1, 2, 0, 2n ** 63n), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => aioSendfilePath(queue, 1, 'GET', file10), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => aioSendfilePath(queue, 1, null, 42), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => aioSendfilePath(queue, 1, null, 'a\0b'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => configureAio({ threads: 5000 }), { code: 'ERR_OUT_OF_RANGE' });
  });
});
