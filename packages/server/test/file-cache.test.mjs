// The open-file cache: files changed on disk are served fresh (inotify through the thread's
// kevent queue, and the TTL where inotify cannot see), the bounds hold, and every response
// form is still right when it comes from a cached entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  writeFileSync, openSync, writeSync, closeSync, ftruncateSync, renameSync, unlinkSync, statSync, utimesSync, mkdirSync,
  rmSync, linkSync, appendFileSync,
} from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { makeSite, startServer, get, Client, req, BIG } from '../testing/helpers.mjs';

// A TTL far longer than any test: what makes these fresh is the inotify event.
const INOTIFY_ONLY = { threads: 1, fileCacheTtl: 600000 };

async function serve(t, options) {
  const site = makeSite();
  const { engine, port } = await startServer(site.root, options);
  t.after(async () => {
    await engine.stop();
    site.cleanup();
  });
  return { site, engine, port, file: (name) => path.join(site.root, name) };
}

const cacheStats = (engine) => engine.stats()[0].fileCache;

// Polls a bounded number of times; the change is usually visible on the first try.
async function eventually(check, what, attempts = 200) {
  let last;
  for (let i = 0; i < attempts; i++) {
    last = await check();
    if (last === true) return;
    await delay(25);
  }
  assert.fail(`still stale after ${attempts} attempts: ${what} (last: ${JSON.stringify(last)})`);
}

const bodyIs = (port, target, expected) => async () => {
  const res = await get(port, target);
  return res.status === 200 && res.text === expected ? true : { status: res.status, text: res.text.slice(0, 40) };
};

test('a file asked twice is opened once; the cached answer is byte-identical', async (t) => {
  const { engine, port } = await serve(t, INOTIFY_ONLY);
  const first = await get(port, '/style.css');
  const before = cacheStats(engine);
  const second = await get(port, '/style.css');
  const after = cacheStats(engine);
  assert.equal(after.hits, before.hits + 1);
  assert.equal(after.misses, before.misses);
  assert.equal(second.status, 200);
  assert.equal(second.text, 'body { color: red }\n');
  for (const h of ['content-type', 'content-length', 'etag', 'last-modified', 'accept-ranges'])
    assert.equal(second.headers[h], first.headers[h], h);
});

test('rewritten in place, same size, mtime put back: served fresh', async (t) => {
  const { port, file } = await serve(t, INOTIFY_ONLY);
  const f = file('same.txt');
  writeFileSync(f, 'AAAAAAAAAA');
  const old = statSync(f);
  await eventually(bodyIs(port, '/same.txt', 'AAAAAAAAAA'), 'first read');
  const fd = openSync(f, 'r+');
  writeSync(fd, 'BBBBBBBBBB', 0);
  closeSync(fd);
  utimesSync(f, old.atime, old.mtime); // same size, same mtime second (and ns)
  await eventually(bodyIs(port, '/same.txt', 'BBBBBBBBBB'), 'in-place rewrite');
});

test('truncated and rewritten: new bytes, new length, new ETag', async (t) => {
  const { port, file } = await serve(t, INOTIFY_ONLY);
  const before = await get(port, '/digits.txt');
  assert.equal(before.text, '0123456789');
  const fd = openSync(file('digits.txt'), 'r+');
  ftruncateSync(fd, 0);
  writeSync(fd, 'abc', 0);
  closeSync(fd);
  await eventually(bodyIs(port, '/digits.txt', 'abc'), 'truncate + write');
  const after = await get(port, '/digits.txt');
  assert.equal(after.headers['content-length'], '3');
  assert.notEqual(after.headers.etag, before.headers.etag);
});

test('a new file renamed over the old one is served, with the new inode in its ETag', async (t) => {
  const { port, file } = await serve(t, INOTIFY_ONLY);
  const before = await get(port, '/data.json');
  writeFileSync(file('data.json.tmp'), '{"a":2}\n');
  renameSync(file('data.json.tmp'), file('data.json'));
  await eventually(bodyIs(port, '/data.json', '{"a":2}\n'), 'rename over');
  const after = await get(port, '/data.json');
  assert.notEqual(after.headers.etag, before.headers.etag);
  assert.equal(after.headers.etag.split('-')[0], `"${statSync(file('data.json')).ino.toString(16)}`);
});

test('deleted: 404; created after a 404: served', async (t) => {
  const { port, file } = await serve(t, INOTIFY_ONLY);
  assert.equal((await get(port, '/blob.bin')).status, 200);
  unlinkSync(file('blob.bin'));
  await eventually(async () => (await get(port, '/blob.bin')).status === 404, 'delete');

  assert.equal((await get(port, '/later.txt')).status, 404);
  assert.equal((await get(port, '/later.txt')).status, 404, 'a second 404, from the negative entry');
  writeFileSync(file('later.txt'), 'here now\n');
  await eventually(bodyIs(port, '/later.txt', 'here now\n'), 'create after 404');
});

test('a directory renamed away and replaced, then removed, under cached files', async (t) => {
  const { port, file } = await serve(t, INOTIFY_ONLY);
  mkdirSync(file('sub'));
  writeFileSync(file('sub/page.html'), 'old dir\n');
  await eventually(bodyIs(port, '/sub/page.html', 'old dir\n'), 'first read');
  assert.equal((await get(port, '/sub/page.html')).text, 'old dir\n');
  renameSync(file('sub'), file('sub-old'));
  mkdirSync(file('sub'));
  writeFileSync(file('sub/page.html'), 'new dir\n');
  await eventually(bodyIs(port, '/sub/page.html', 'new dir\n'), 'directory replaced');
  assert.equal((await get(port, '/sub-old/page.html')).text, 'old dir\n');
  rmSync(file('sub'), { recursive: true });
  await eventually(async () => (await get(port, '/sub/page.html')).status === 404, 'directory removed');
  // A directory index, cached through the directory entry, follows the same way.
  assert.equal((await get(port, '/docs/')).text, '<h1>docs</h1>\n');
  writeFileSync(file('docs/index.html'), '<h1>docs v2</h1>\n');
  await eventually(bodyIs(port, '/docs/', '<h1>docs v2</h1>\n'), 'index rewritten');
});

test('two I/O threads, two caches: both let go of a changed file', async (t) => {
  // SO_REUSEPORT spreads connections by hash: both threads get some of these.
  const { engine, port, file } = await serve(t, { ...INOTIFY_ONLY, threads: 2, reusePort: true });
  const many = async (n) => Promise.all(Array.from({ length: n }, () => get(port, '/style.css')));
  await many(20);
  await many(20);
  assert.ok(engine.stats().every((s) => s.fileCache.hits > 0), 'each thread served the file from its own cache');
  writeFileSync(file('style.css'), 'p { margin: 0 }\n');
  await eventually(async () => (await many(20)).every((r) => r.text === 'p { margin: 0 }\n'), 'both threads');
});

test('a change inotify cannot see (written through a hard link elsewhere) is served within the TTL', async (t) => {
  const { site, port, file } = await serve(t, { threads: 1, fileCacheTtl: 50 });
  const link = path.join(site.base, 'outside', 'hard-link.txt');
  writeFileSync(file('linked.txt'), 'version 1\n');
  linkSync(file('linked.txt'), link);
  await eventually(bodyIs(port, '/linked.txt', 'version 1\n'), 'first read');
  assert.equal((await get(port, '/linked.txt')).text, 'version 1\n');
  appendFileSync(link, 'version 2\n'); // the root's watch hears nothing of this
  await eventually(bodyIs(port, '/linked.txt', 'version 1\nversion 2\n'), 'TTL revalidation');
});

test('fileCacheTtl 0: every use is checked against the disk, so even an unseen change shows at once', async (t) => {
  const { site, engine, port, file } = await serve(t, { threads: 1, fileCacheTtl: 0 });
  const link = path.join(site.base, 'outside', 'hard-link.txt');
  linkSync(file('digits.txt'), link);
  assert.equal((await get(port, '/digits.txt')).text, '0123456789');
  for (const content of ['9876543210', 'abcdefghij', 'short']) {
    writeFileSync(link, content); // same size twice, within the same second: no event, no TTL wait
    assert.equal((await get(port, '/digits.txt')).text, content);
  }
  assert.ok(cacheStats(engine).entries >= 1);
});

test('more files than entries: every one served right, the cache stays within its bound', async (t) => {
  const { engine, port, file } = await serve(t, { threads: 1, fileCacheEntries: 4 });
  mkdirSync(file('many'));
  for (let i = 0; i < 20; i++) writeFileSync(file(`many/f${i}.txt`), `file ${i}\n`.repeat(i + 1));
  for (const i of [...Array(20).keys(), ...Array(20).keys()].reverse()) {
    const res = await get(port, `/many/f${i}.txt`);
    assert.equal(res.text, `file ${i}\n`.repeat(i + 1));
    assert.ok(cacheStats(engine).entries <= 4);
  }
  assert.equal(cacheStats(engine).entries, 4);
});

test('fileCacheEntries 0: no cache, every change visible on the next request', async (t) => {
  const { engine, port, file } = await serve(t, { threads: 1, fileCacheEntries: 0 });
  for (let i = 0; i < 3; i++) {
    writeFileSync(file('index.html'), `<p>${i}</p>\n`);
    assert.equal((await get(port, '/')).text, `<p>${i}</p>\n`);
    assert.equal((await get(port, '/big.bin')).body.equals(BIG), true);
  }
  unlinkSync(file('index.html'));
  assert.equal((await get(port, '/')).status, 403);
  assert.deepEqual(cacheStats(engine), { entries: 0, hits: 0, misses: 0, coldReads: 0 });
});

test('HEAD, ranges and conditionals answered from cached entries, small and large', async (t) => {
  const { engine, port } = await serve(t, INOTIFY_ONLY);
  const small = await get(port, '/digits.txt');
  const large = await get(port, '/big.bin');
  assert.ok(large.body.equals(BIG));
  const hits = cacheStats(engine).hits;

  const head = await get(port, '/digits.txt', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '10');
  assert.equal(head.body.length, 0);
  const range = await get(port, '/digits.txt', { Range: 'bytes=2-5' });
  assert.equal(range.status, 206);
  assert.equal(range.text, '2345');
  assert.equal(range.headers['content-range'], 'bytes 2-5/10');
  assert.equal(range.headers['content-type'], small.headers['content-type']);
  assert.equal((await get(port, '/digits.txt', { Range: 'bytes=-3' })).text, '789');
  assert.equal((await get(port, '/digits.txt', { Range: 'bytes=20-' })).status, 416);
  assert.equal((await get(port, '/digits.txt', { 'If-None-Match': small.headers.etag })).status, 304);
  assert.equal((await get(port, '/digits.txt', { 'If-Modified-Since': small.headers['last-modified'] })).status, 304);
  assert.equal((await get(port, '/digits.txt', { 'If-Match': '"nope"' })).status, 412);
  const ifRange = await get(port, '/digits.txt', { Range: 'bytes=0-0', 'If-Range': small.headers.etag });
  assert.equal(ifRange.status, 206);
  assert.equal(ifRange.text, '0');
  const bigRange = await get(port, '/big.bin', { Range: 'bytes=100000-100009' });
  assert.equal(bigRange.status, 206);
  assert.ok(bigRange.body.equals(BIG.subarray(100000, 100010)));
  assert.ok((await get(port, '/big.bin')).body.equals(BIG));
  assert.equal((await get(port, '/big.bin', { 'If-None-Match': large.headers.etag })).status, 304);
  assert.equal(cacheStats(engine).misses, 2, 'two files opened once each, whatever was asked of them');
  assert.equal(cacheStats(engine).hits, hits + 11, 'the other eleven came from the cache');
});

test('keep-alive: pipelined requests for a cached file share its bytes and stay in order', async (t) => {
  const { port } = await serve(t, INOTIFY_ONLY);
  const c = new Client(port);
  await c.ready;
  t.after(() => c.close());
  const targets = ['/digits.txt', '/style.css', '/digits.txt', '/big.bin', '/digits.txt'];
  c.send(targets.map((p) => req(p)).join(''), targets.map(() => 'GET'));
  await c.until(targets.length);
  const rs = c.responses();
  assert.deepEqual(rs.map((r) => r.status), [200, 200, 200, 200, 200]);
  assert.equal(rs[0].text, '0123456789');
  assert.equal(rs[1].text, 'body { color: red }\n');
  assert.equal(rs[2].text, '0123456789');
  assert.ok(rs[3].body.equals(BIG));
  assert.equal(rs[4].text, '0123456789');
});

test('a large cached file replaced while a response from it is still sending', async (t) => {
  const { port, file } = await serve(t, INOTIFY_ONLY);
  const huge = Buffer.alloc(8 << 20, 7);
  writeFileSync(file('huge.bin'), huge);
  // Slow reader: the first response is mid-send when the file is replaced and evicted.
  const c = new Client(port);
  await c.ready;
  t.after(() => c.close());
  c.sock.pause();
  c.send(req('/huge.bin'), ['GET']);
  await delay(50);
  const next = Buffer.alloc(8 << 20, 9);
  writeFileSync(file('huge.bin.tmp'), next);
  renameSync(file('huge.bin.tmp'), file('huge.bin'));
  await eventually(async () => (await get(port, '/huge.bin', { Range: 'bytes=0-0' })).body[0] === 9, 'replaced');
  c.sock.resume();
  await c.until(1, 20000);
  const [res] = c.responses();
  assert.equal(res.body.length, huge.length);
  assert.ok(res.body.equals(huge), 'the response in flight kept the file it started with');
});

test('out of fds: cached fds are given back and every file is still served', { timeout: 30000 }, async (t) => {
  const { site, file } = await serve(t, { threads: 1 });
  mkdirSync(file('fds'));
  const files = 120;
  for (let i = 0; i < files; i++) writeFileSync(file(`fds/${i}.bin`), `fd ${i}`);
  // smallFileMax 0: every cached file holds an open fd; the table holds 96.
  const options = JSON.stringify({ root: site.root, threads: 1, smallFileMax: 0 });
  const serveChild = new URL('../testing/serve-child.mjs', import.meta.url).pathname;
  const child = spawn('sh', ['-c', 'ulimit -n 96 && exec "$0" "$1" "$2"', process.execPath, serveChild, options], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  const { port } = JSON.parse(line);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < files; i++) {
      const res = await get(port, `/fds/${i}.bin`);
      assert.equal(res.status, 200, `round ${round}, file ${i}`);
      assert.equal(res.text, `fd ${i}`);
    }
  }
});
