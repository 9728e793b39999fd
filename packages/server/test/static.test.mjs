// The static file policy: which status each kind of path gets, and what the body is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '../dist/index.js';
import { get, BIG, useSiteServer, startServer } from '../testing/helpers.mjs';

const env = useSiteServer();

test('200 with the file, its length and a text type with charset', async () => {
  const res = await get(env.port, '/style.css');
  assert.equal(res.status, 200);
  assert.equal(res.text, 'body { color: red }\n');
  assert.equal(res.headers['content-type'], 'text/css; charset=utf-8');
  assert.equal(res.headers['content-length'], String(res.body.length));
  assert.equal(res.headers['accept-ranges'], 'bytes');
});

test('Content-Type from the MIME table; binary types carry no charset', async () => {
  assert.equal((await get(env.port, '/data.json')).headers['content-type'], 'application/json; charset=utf-8');
  assert.equal((await get(env.port, '/index.html')).headers['content-type'], 'text/html; charset=utf-8');
  assert.equal((await get(env.port, '/blob.bin')).headers['content-type'], 'application/octet-stream');
});

test('mimeTypes: additions and overrides by extension, case-insensitive; own parameters kept', async () => {
  writeFileSync(path.join(env.site.root, 'notes.MD'), '# hi\n');
  writeFileSync(path.join(env.site.root, 'thing.foo'), 'foo');
  writeFileSync(path.join(env.site.root, 'legacy.txt'), 'old');
  const s = await startServer(env.site.root, {
    threads: 1,
    mimeTypes: { md: 'text/x-markdown', FOO: 'application/x-foo', txt: 'text/plain; charset=iso-8859-1' },
  });
  try {
    assert.equal((await get(s.port, '/notes.MD')).headers['content-type'], 'text/x-markdown; charset=utf-8');
    assert.equal((await get(s.port, '/thing.foo')).headers['content-type'], 'application/x-foo');
    assert.equal((await get(s.port, '/legacy.txt')).headers['content-type'], 'text/plain; charset=iso-8859-1');
    assert.equal((await get(s.port, '/style.css')).headers['content-type'], 'text/css; charset=utf-8', 'the table still applies');
  } finally {
    await s.engine.stop();
  }
  assert.equal((await get(env.port, '/thing.foo')).headers['content-type'], 'application/octet-stream', 'per engine');
  for (const mimeTypes of [{ '.md': 'text/markdown' }, { md: 'markdown' }, { md: 'text/markdown\r\nX: y' }, []]) {
    assert.throws(() => serveStatic(env.site.root, { mimeTypes }), { code: 'ERR_INVALID_ARG_VALUE' });
  }
});

test('the query string is ignored', async () => {
  const res = await get(env.port, '/digits.txt?v=1&x=../../etc/passwd');
  assert.equal(res.status, 200);
  assert.equal(res.text, '0123456789');
});

test('percent-encoded names are decoded once (space, UTF-8)', async () => {
  assert.equal((await get(env.port, '/a%20b.txt')).text, 'space\n');
  assert.equal((await get(env.port, '/caf%C3%A9.txt')).text, 'utf8\n');
});

test('404 for a missing file, and for a file named as a directory', async () => {
  assert.equal((await get(env.port, '/nope.html')).status, 404);
  assert.equal((await get(env.port, '/index.html/')).status, 404);
});

test('/ serves index.html; a directory with a slash serves its index', async () => {
  assert.equal((await get(env.port, '/')).text, '<h1>home</h1>\n');
  assert.equal((await get(env.port, '/docs/')).text, '<h1>docs</h1>\n');
});

test('301 to the slash for a directory without one, keeping the query', async () => {
  const res = await get(env.port, '/docs?x=1');
  assert.equal(res.status, 301);
  assert.equal(res.headers.location, '/docs/?x=1');
});

test('403 for a directory without an index', async () => {
  assert.equal((await get(env.port, '/noindex/')).status, 403);
});

test('405 with Allow for other methods on a file', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    const res = await get(env.port, '/index.html', {}, method);
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.allow, 'GET, HEAD');
  }
});

test('HEAD: the same head as GET and no body', async () => {
  const g = await get(env.port, '/style.css');
  const h = await get(env.port, '/style.css', {}, 'HEAD');
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], g.headers['content-length']);
  assert.equal(h.headers.etag, g.headers.etag);
  assert.equal(h.body.length, 0);
});

test('empty file: 200 with Content-Length 0', async () => {
  const res = await get(env.port, '/empty.txt');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-length'], '0');
});

test('a large file (sendfile path) arrives whole and intact', async () => {
  const res = await get(env.port, '/big.bin');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-length'], String(BIG.length));
  assert.ok(res.body.equals(BIG));
});

test('dotfiles: denied (403) by default, including dot directories', async () => {
  assert.equal((await get(env.port, '/.secret')).status, 403);
  assert.equal((await get(env.port, '/.git/config')).status, 403);
});

test('dotfiles: "ignore" answers 404 and "allow" serves them', async () => {
  const ignore = await startServer(env.site.root, { dotfiles: 'ignore', threads: 1 });
  const allow = await startServer(env.site.root, { dotfiles: 'allow', threads: 1 });
  try {
    assert.equal((await get(ignore.port, '/.secret')).status, 404);
    assert.equal((await get(allow.port, '/.secret')).text, 'dot\n');
  } finally {
    await ignore.engine.stop();
    await allow.engine.stop();
  }
});

test('index option: other names, tried in order', async () => {
  const s = await startServer(env.site.root, { index: ['missing.html', 'file.txt'], threads: 1 });
  try {
    assert.equal((await get(s.port, '/noindex/')).text, 'x\n');
    assert.equal((await get(s.port, '/')).status, 403);
  } finally {
    await s.engine.stop();
  }
});

test('symlinks are refused by default, even inside the root; followSymlinks serves them', async () => {
  assert.equal((await get(env.port, '/inside-link.html')).status, 403);
  const s = await startServer(env.site.root, { followSymlinks: true, threads: 1 });
  try {
    assert.equal((await get(s.port, '/inside-link.html')).text, '<h1>home</h1>\n');
  } finally {
    await s.engine.stop();
  }
});

test('a file changed on disk is served fresh, with a new ETag', async () => {
  const file = path.join(env.site.root, 'changing.txt');
  writeFileSync(file, 'first\n');
  const a = await get(env.port, '/changing.txt');
  writeFileSync(file, 'second version\n');
  utimesSync(file, new Date(), new Date(Date.now() + 5000)); // a new mtime even on a coarse clock
  const b = await get(env.port, '/changing.txt');
  assert.equal(a.text, 'first\n');
  assert.equal(b.text, 'second version\n');
  assert.notEqual(a.headers.etag, b.headers.etag);
  assert.equal((await get(env.port, '/changing.txt', { 'If-None-Match': a.headers.etag })).status, 200);
});
