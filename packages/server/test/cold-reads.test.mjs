// Nothing that can wait on the disk runs on an I/O thread: a small file whose pages are not
// in the page cache is not read there (preadv2 RWF_NOWAIT says so); its response goes to the
// aio pool like a large file's, and a later request finds the bytes warm and serves them
// from memory. Files are evicted with dd iflag=nocache (POSIX_FADV_DONTNEED on clean pages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, openSync, fsyncSync, closeSync, statfsSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { makeSite, startServer, get, raw, parseResponses } from '../testing/helpers.mjs';
import { boundaryOf, parseByteranges } from '../testing/multipart.mjs';

const TMPFS_MAGIC = 0x01021994;
const onTmpfs = statfsSync(tmpdir()).type === TMPFS_MAGIC;
const skip = onTmpfs ? 'tmpfs keeps every page in memory: nothing can be evicted' : false;
const shm = existsSync('/dev/shm') && statfsSync('/dev/shm').type === TMPFS_MAGIC ? '/dev/shm' : onTmpfs ? tmpdir() : null;

async function serve(t, options = {}) {
  const site = makeSite();
  const { engine, port } = await startServer(site.root, { threads: 1, fileCacheTtl: 600000, ...options });
  t.after(async () => {
    await engine.stop();
    site.cleanup();
  });
  // A new file, on the disk and out of the page cache.
  const coldFile = (name, bytes) => {
    const file = path.join(site.root, name);
    writeFileSync(file, bytes);
    const fd = openSync(file, 'r');
    fsyncSync(fd); // dirty pages cannot be dropped
    closeSync(fd);
    evict(file);
    return bytes;
  };
  return { site, engine, port, coldFile, evict: (name) => evict(path.join(site.root, name)) };
}

function evict(file) {
  const r = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  assert.equal(r.status, 0, `dd: ${r.stderr}`);
}

const stats = (engine) => engine.stats()[0].fileCache;

test('a cold small file goes to the pool, byte-exact; once warm it is served from memory', { skip }, async (t) => {
  const { engine, port, coldFile, evict } = await serve(t);
  const bytes = coldFile('cold.bin', randomBytes(40000));
  const s0 = stats(engine);
  const first = await get(port, '/cold.bin');
  assert.equal(first.status, 200);
  assert.equal(first.headers['content-length'], '40000');
  assert.ok(first.body.equals(bytes), 'cold body byte-exact');
  const s1 = stats(engine);
  assert.equal(s1.coldReads, s0.coldReads + 1, 'the cold bytes were not read on the I/O thread');
  assert.equal(s1.misses, s0.misses + 1);

  // The pool's sendfile read the pages in: this lookup loads them, without waiting.
  const second = await get(port, '/cold.bin');
  assert.ok(second.body.equals(bytes));
  const s2 = stats(engine);
  assert.equal(s2.coldReads, s1.coldReads, 'warm now');
  assert.equal(s2.hits, s1.hits + 1);
  assert.equal(second.headers.etag, first.headers.etag);

  // Held in memory: evicting the pages again changes nothing for the response.
  evict('cold.bin');
  const third = await get(port, '/cold.bin');
  assert.ok(third.body.equals(bytes));
  const s3 = stats(engine);
  assert.equal(s3.coldReads, s2.coldReads, 'served from the cached bytes');
  assert.equal(s3.hits, s2.hits + 1);
});

test('range, suffix range, HEAD, 304 and multipart of cold files are answered exactly', { skip }, async (t) => {
  const { engine, port, coldFile } = await serve(t);
  let before = stats(engine).coldReads;
  const coldOnce = () => {
    const now = stats(engine).coldReads;
    assert.equal(now, before + 1, 'went the non-blocking way');
    before = now;
  };

  const a = coldFile('a.bin', randomBytes(30000));
  const range = await get(port, '/a.bin', { Range: 'bytes=100-4195' });
  assert.equal(range.status, 206);
  assert.equal(range.headers['content-range'], 'bytes 100-4195/30000');
  assert.equal(range.headers['content-length'], '4096');
  assert.ok(range.body.equals(a.subarray(100, 4196)));
  coldOnce();

  const b = coldFile('b.bin', randomBytes(20000));
  const suffix = await get(port, '/b.bin', { Range: 'bytes=-10' });
  assert.equal(suffix.status, 206);
  assert.ok(suffix.body.equals(b.subarray(19990)));
  coldOnce();

  coldFile('c.txt', Buffer.from('c'.repeat(5000)));
  const head = await get(port, '/c.txt', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '5000');
  assert.equal(head.body.length, 0);
  coldOnce();

  // Warm it through a GET, learn its ETag, evict it from both caches (a new inode), then 304.
  const d = coldFile('d.txt', Buffer.from('d'.repeat(7000)));
  const full = await get(port, '/d.txt');
  assert.ok(full.body.equals(d));
  coldOnce();
  const e = coldFile('e.txt', Buffer.from('e'.repeat(7000)));
  const etag = (await get(port, '/e.txt', {}, 'HEAD')).headers.etag;
  coldOnce();
  const notModified = await get(port, '/e.txt', { 'If-None-Match': etag });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.body.length, 0);
  const whole = await get(port, '/e.txt');
  assert.ok(whole.body.equals(e));

  const f = coldFile('f.bin', randomBytes(50000));
  const multi = await get(port, '/f.bin', { Range: 'bytes=0-9,1000-1999,49990-' });
  assert.equal(multi.status, 206);
  const parts = parseByteranges(multi.body, boundaryOf(multi.headers['content-type']));
  assert.equal(Number(multi.headers['content-length']), multi.body.length);
  assert.deepEqual(parts.map((p) => [p.first, p.last]), [[0, 9], [1000, 1999], [49990, 49999]]);
  for (const p of parts) assert.ok(p.body.equals(f.subarray(p.first, p.last + 1)), `part ${p.first}`);
  coldOnce();
});

test('pipelined requests for cold files keep their order on a keep-alive connection', { skip }, async (t) => {
  const { port, coldFile } = await serve(t);
  const files = [1, 2, 3].map((i) => coldFile(`p${i}.bin`, randomBytes(3000 * i)));
  const request = (name) => `GET /${name} HTTP/1.1\r\nHost: t\r\n\r\n`;
  const { buf } = await raw(port, [request('p1.bin'), request('style.css'), request('p2.bin'), request('p3.bin')]);
  const res = parseResponses(buf);
  assert.equal(res.length, 4);
  assert.ok(res[0].body.equals(files[0]));
  assert.equal(res[1].text, 'body { color: red }\n');
  assert.ok(res[2].body.equals(files[1]));
  assert.ok(res[3].body.equals(files[2]));
});

test('without the file cache a cold small file is still sent whole by the pool', { skip }, async (t) => {
  const { port, coldFile } = await serve(t, { fileCacheEntries: 0 });
  const bytes = coldFile('nocache.bin', randomBytes(60000));
  const res = await get(port, '/nocache.bin');
  assert.equal(res.status, 200);
  assert.ok(res.body.equals(bytes));
  assert.ok((await get(port, '/nocache.bin')).body.equals(bytes));
});

// tmpfs (like procfs) has no RWF_NOWAIT: the I/O thread cannot tell warm pages from cold, so
// it never reads there; a worker loads the bytes once and later requests come from memory.
test('on tmpfs a small file is loaded by a worker, then served from memory', { skip: shm ? false : 'no tmpfs here' }, async (t) => {
  const root = mkdtempSync(path.join(shm, 'kevent-tmpfs-'));
  const { engine, port } = await startServer(root, { threads: 1, fileCacheTtl: 600000 });
  t.after(async () => {
    await engine.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const bytes = randomBytes(20000);
  writeFileSync(path.join(root, 'shm.bin'), bytes);
  const before = stats(engine).coldReads;
  const first = await get(port, '/shm.bin');
  assert.ok(first.body.equals(bytes));
  assert.equal(stats(engine).coldReads, before + 1, 'not read on the I/O thread');
  // Until the worker's bytes are in, each request still goes to the pool (and counts).
  let last = stats(engine).coldReads;
  for (let i = 0; i < 100; i++) {
    assert.ok((await get(port, '/shm.bin')).body.equals(bytes));
    const now = stats(engine).coldReads;
    if (now === last) break;
    last = now;
    await delay(10);
  }
  const hits = stats(engine).hits;
  for (let i = 0; i < 3; i++) assert.ok((await get(port, '/shm.bin')).body.equals(bytes));
  assert.equal(stats(engine).coldReads, last, 'held in memory now');
  assert.equal(stats(engine).hits, hits + 3);
});
