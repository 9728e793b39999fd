// Directory listings: HTML for a directory with a slash and no index file, names escaped in
// text and encoded in links, dotfiles and symlinks hidden by default, bounded in size.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync, utimesSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createEngine } from '../dist/index.js';
import { get, raw, parseResponses, useSiteServer, startServer, Client } from '../testing/helpers.mjs';

const NAMES = ['a&b.txt', '<b onmouseover=alert(1)>.html', `q"uote's.txt`, 'sp ace.txt', 'per%cent.txt', 'javascript:x.txt', 'é.txt'];
const env = useSiteServer({ listing: true, headerRules: [{ match: '/list/', headers: { 'X-Listing': '1' } }] });

before(() => {
  const list = path.join(env.site.root, 'list');
  mkdirSync(list);
  for (const name of NAMES) writeFileSync(path.join(list, name), `content of ${name}\n`);
  writeFileSync(path.join(list, 'sized.bin'), Buffer.alloc(1234));
  utimesSync(path.join(list, 'sized.bin'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  mkdirSync(path.join(list, 'sub'));
  mkdirSync(path.join(list, 'Zdir'));
  writeFileSync(path.join(list, '.hidden'), 'hidden\n');
  symlinkSync('sized.bin', path.join(list, 'link.bin'));
  const many = path.join(env.site.root, 'many');
  mkdirSync(many);
  for (let i = 0; i < 10005; i++) writeFileSync(path.join(many, `f${i}`), '');
});

const hrefs = (html) => [...html.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((m) => [m[1], m[2]]);

test('200 text/html listing with escaped names, encoded links, sorted, directories first', async () => {
  const res = await get(env.port, '/list/');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(res.headers['content-length'], String(res.body.length));
  assert.equal(res.headers['x-listing'], '1', 'header rules match the directory path');
  const html = res.body.toString('utf8');
  assert.match(html, /<title>Index of \/list\/<\/title>/);
  assert.doesNotMatch(html, /<b /);
  assert.deepEqual(hrefs(html), [
    ['../', '../'],
    ['./Zdir/', 'Zdir/'],
    ['./sub/', 'sub/'],
    ['./%3Cb%20onmouseover%3Dalert%281%29%3E.html', '&lt;b onmouseover=alert(1)&gt;.html'],
    ['./a%26b.txt', 'a&amp;b.txt'],
    ['./javascript%3Ax.txt', 'javascript:x.txt'],
    ['./per%25cent.txt', 'per%cent.txt'],
    ['./q%22uote%27s.txt', 'q&quot;uote&#39;s.txt'],
    ['./sized.bin', 'sized.bin'],
    ['./sp%20ace.txt', 'sp ace.txt'],
    ['./%C3%A9.txt', 'é.txt'],
  ]);
  assert.match(html, /sized\.bin<\/a><\/td><td>2020-01-02 03:04:05<\/td><td>1234<\/td>/);
});

test('every link of the listing fetches its file', async () => {
  const html = (await get(env.port, '/list/')).body.toString('utf8');
  for (const [href] of hrefs(html)) {
    if (href.endsWith('/')) continue;
    const res = await get(env.port, '/list/' + href.slice(2));
    assert.equal(res.status, 200, href);
    const name = decodeURIComponent(href.slice(2));
    if (name !== 'sized.bin') assert.equal(res.body.toString('utf8'), `content of ${name}\n`, href);
    assert.ok(NAMES.includes(name) || name === 'sized.bin', name);
  }
});

test('dotfiles and symlinks are not listed by default', async () => {
  const html = (await get(env.port, '/list/')).text;
  assert.doesNotMatch(html, /hidden/);
  assert.doesNotMatch(html, /link\.bin/);
});

test('the root has no parent link; a directory with an index serves the index', async () => {
  const { engine, port } = await startServer(path.join(env.site.root, 'list'), { listing: true });
  try {
    const html = (await get(port, '/')).text;
    assert.match(html, /Index of \/</);
    assert.doesNotMatch(html, /href="\.\.\/"/);
  } finally {
    await engine.stop();
  }
  assert.equal((await get(env.port, '/docs/')).text, '<h1>docs</h1>\n');
});

test('no slash: 301; HEAD: headers only; other methods: 405 with Allow', async () => {
  assert.equal((await get(env.port, '/list')).headers.location, '/list/');
  const full = await get(env.port, '/list/');
  const head = await get(env.port, '/list/', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], full.headers['content-length']);
  assert.equal(head.body.length, 0);
  const post = await get(env.port, '/list/', {}, 'POST');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
});

test('traversal through listing URLs never lists outside the root', async () => {
  assert.equal((await get(env.port, '/list/..%2f')).status, 400);
  assert.equal((await get(env.port, '/list/../../')).status, 400);
  assert.equal((await get(env.port, '/outdir/')).status, 403, 'a symlinked directory out of the root');
  assert.equal((await get(env.port, '/.git/')).status, 403, 'a dot directory');
  // '..' inside the root normalises to the root's own listing (the root has an index.html).
  assert.equal((await get(env.port, '/list/%2e%2e/')).text, '<h1>home</h1>\n');
  const res = await get(env.port, '/list/sub/');
  assert.equal(res.status, 200);
  assert.deepEqual(hrefs(res.text), [['../', '../']]);
});

test('dotfiles allow and followSymlinks show them', async () => {
  const { engine, port } = await startServer(env.site.root, { listing: true, dotfiles: 'allow', followSymlinks: true });
  try {
    const names = hrefs((await get(port, '/list/')).text).map(([, t]) => t);
    assert.ok(names.includes('.hidden'));
    assert.ok(names.includes('link.bin'));
  } finally {
    await engine.stop();
  }
});

test('past 10000 entries the listing is cut and says so', async () => {
  const res = await get(env.port, '/many/');
  assert.equal(res.status, 200);
  assert.equal(hrefs(res.text).length, 10000 + 1);
  assert.match(res.text, /Only the first 10000 entries are listed/);
});

test('listing off (default): 403 for the same directory', async () => {
  const { engine, port } = await startServer(env.site.root);
  try {
    assert.equal((await get(port, '/list/')).status, 403);
  } finally {
    await engine.stop();
  }
});

// Listings are read and built on a worker, off the I/O thread; the reply takes its place in
// the connection's queue when the worker is done.
test('pipelined listings, files and HEAD on one connection are answered in order', async () => {
  const r = (method, target) => `${method} ${target} HTTP/1.1\r\nHost: t\r\n\r\n`;
  const { buf } = await raw(env.port, [r('GET', '/list/'), r('GET', '/style.css'), r('HEAD', '/many/'), r('GET', '/list/sub/'), r('GET', '/digits.txt')]);
  const res = parseResponses(buf, ['GET', 'GET', 'HEAD', 'GET', 'GET']);
  assert.deepEqual(res.map((x) => x.status), [200, 200, 200, 200, 200]);
  assert.equal(hrefs(res[0].text).length, 11);
  assert.equal(res[1].text, 'body { color: red }\n');
  assert.equal(res[2].body.length, 0);
  assert.ok(Number(res[2].headers['content-length']) > 10000 * 20, 'the HEAD describes the whole listing');
  assert.deepEqual(hrefs(res[3].text), [['../', '../']]);
  assert.equal(res[4].text, '0123456789');
});

test('a listing request is logged once, with its status and body size', async () => {
  const entries = [];
  const engine = createEngine({ root: env.site.root, threads: 1, listing: true, accessLog: (batch) => entries.push(...batch) });
  const port = await engine.start();
  try {
    const res = await get(port, '/list/');
    const missing = await get(port, '/nothere/');
    assert.equal(missing.status, 404);
    for (let i = 0; i < 200 && entries.length < 2; i++) await delay(10);
    assert.equal(entries.length, 2);
    assert.equal(entries[0].url, '/list/');
    assert.equal(entries[0].status, 200);
    assert.equal(entries[0].bytes, res.body.length);
  } finally {
    await engine.stop();
  }
});

test('a listing cut by a stop is still logged: 499 when it was not answered', async () => {
  const entries = [];
  const engine = createEngine({ root: env.site.root, threads: 1, listing: true, accessLog: (batch) => entries.push(...batch) });
  const port = await engine.start();
  const c = new Client(port);
  await c.ready;
  // The first answer shows the engine reads this connection; the second request is read as
  // promptly, and its listing (10005 entries) is usually still being built when the stop
  // comes. Built or not, it gets exactly one entry.
  c.send('GET /list/ HTTP/1.1\r\nHost: t\r\n\r\n');
  await c.until(1);
  c.send('GET /many/ HTTP/1.1\r\nHost: t\r\n\r\n');
  await delay(20);
  await engine.stop({ grace: 0 });
  await c.untilClosed();
  // Entries reach JS a loop turn after the responses: wait for them, bounded.
  for (let i = 0; i < 200 && entries.length < 2; i++) await delay(10);
  assert.deepEqual(entries.map((e) => e.url), ['/list/', '/many/']);
  const [, many] = entries;
  const answered = c.responses().length === 2 && c.responses()[1].body.length === Number(c.responses()[1].headers['content-length']);
  assert.deepEqual([many.status, many.bytes > 0], answered ? [200, true] : [499, false]);
});

test('clients gone while their listing is built, and a stop meanwhile, end cleanly', async () => {
  const { engine, port } = await startServer(env.site.root, { threads: 1, listing: true });
  // Gone at once: the worker's reply is dropped, the thread goes on.
  for (let i = 0; i < 4; i++) {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write('GET /many/ HTTP/1.1\r\nHost: t\r\n\r\n');
      sock.destroy();
    });
    sock.on('error', () => {});
  }
  const ok = await get(port, '/list/');
  assert.equal(ok.status, 200);
  assert.equal(hrefs(ok.text).length, 11);

  // Listings in flight when the engine stops without a grace period: each client gets the
  // whole listing or a closed connection, and stop() returns. A client whose request was not
  // read yet (or not even accepted) when the engine stopped is reset rather than closed.
  const clients = [];
  for (let i = 0; i < 6; i++) clients.push(raw(port, 'GET /many/ HTTP/1.1\r\nHost: t\r\n\r\n', { keepOpen: true, timeout: 10000 }));
  await delay(5);
  await engine.stop({ grace: 0 });
  for (const { buf, closed, reset } of await Promise.all(clients)) {
    assert.ok(closed || reset, 'the server ended the connection (not the client timing out)');
    const [res] = parseResponses(buf);
    if (res && res.body.length === Number(res.headers['content-length'])) assert.match(res.text, /Only the first 10000/);
  }
  // The same site, a new engine: its workers start afresh.
  const again = await startServer(env.site.root, { threads: 1, listing: true });
  try {
    assert.equal((await get(again.port, '/many/')).status, 200);
  } finally {
    await again.engine.stop();
  }
});
