// Custom error pages: the configured file is the body of the error, under the original status
// with the page's Content-Type; the built-in text body when the page cannot be served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { get, raw, parseResponses, makeSite, startServer, Client, req } from '../testing/helpers.mjs';

const PAGE_404 = '<h1>Nothing here</h1>\n';
const PAGE_403 = '<h1>Forbidden, sorry</h1>\n';
const PAGE_405 = '{"error":"method"}\n';
const PAGE_416 = 'bad range\n';
const env = {};

before(async () => {
  env.site = makeSite();
  const { root } = env.site;
  writeFileSync(path.join(root, '404.html'), PAGE_404);
  writeFileSync(path.join(root, '403.html'), PAGE_403);
  mkdirSync(path.join(root, 'err'));
  writeFileSync(path.join(root, 'err', '405.json'), PAGE_405);
  writeFileSync(path.join(root, '416.txt'), PAGE_416);
  symlinkSync('404.html', path.join(root, 'link.html'));
  env.a = await startServer(root, {
    errorPages: { 404: '404.html', 403: '/403.html', 405: 'err/405.json', 416: '416.txt', 412: 'link.html', 400: '../outside/secret.txt' },
  });
  // Pages that cannot be served, and one larger than smallFileMax (sent with sendfile).
  env.b = await startServer(root, { errorPages: { 404: 'gone.html', 403: 'docs', 405: '404.html' }, smallFileMax: 8 });
});

after(async () => {
  await env.a.engine.stop();
  await env.b.engine.stop();
  env.site.cleanup();
});

test('404 carries the page, its type and length, and stays 404', async () => {
  const res = await get(env.a.port, '/nope.html');
  assert.equal(res.status, 404);
  assert.equal(res.text, PAGE_404);
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(res.headers['content-length'], String(PAGE_404.length));
});

test('HEAD: the page length, no body', async () => {
  const { buf } = await raw(env.a.port, 'HEAD /nope.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  const text = buf.toString('latin1');
  assert.match(text, /^HTTP\/1\.1 404 Not Found\r\n/);
  assert.match(text, new RegExp(`\r\nContent-Length: ${PAGE_404.length}\r\n`));
  assert.ok(text.endsWith('\r\n\r\n'), 'nothing after the head');
});

test('403 (dotfile, symlink out of the root) with a page named with a leading slash', async () => {
  for (const target of ['/.secret', '/escape.txt']) {
    const res = await get(env.a.port, target);
    assert.equal(res.status, 403, target);
    assert.equal(res.text, PAGE_403, target);
  }
});

test('405 keeps Allow and takes the JSON page', async () => {
  const res = await get(env.a.port, '/index.html', {}, 'DELETE');
  assert.equal(res.status, 405);
  assert.equal(res.headers.allow, 'GET, HEAD');
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(res.text, PAGE_405);
});

test('416 keeps Content-Range', async () => {
  const res = await get(env.a.port, '/digits.txt', { Range: 'bytes=50-' });
  assert.equal(res.status, 416);
  assert.equal(res.headers['content-range'], 'bytes */10');
  assert.equal(res.text, PAGE_416);
});

test('a page that is a symlink, or outside the root, falls back to the built-in body', async () => {
  const res = await get(env.a.port, '/digits.txt', { 'If-Match': '"other"' });
  assert.equal(res.status, 412);
  assert.equal(res.text, '412 Precondition Failed\n');
  const bad = await get(env.a.port, '/a%00b');
  assert.equal(bad.status, 400);
  assert.equal(bad.text, '400 Bad Request\n');
  assert.doesNotMatch(bad.text, /SECRET/);
});

test('a missing page or a directory as page: built-in body, same status', async () => {
  const missing = await get(env.b.port, '/nope.html');
  assert.equal(missing.status, 404);
  assert.equal(missing.text, '404 Not Found\n');
  assert.equal(missing.headers['content-type'], 'text/plain; charset=utf-8');
  const dir = await get(env.b.port, '/.secret');
  assert.equal(dir.status, 403);
  assert.equal(dir.text, '403 Forbidden\n');
});

test('a page above smallFileMax goes by sendfile, under the original status', async () => {
  const res = await get(env.b.port, '/index.html', {}, 'POST');
  assert.equal(res.status, 405);
  assert.equal(res.headers.allow, 'GET, HEAD');
  assert.equal(res.text, PAGE_404);
});

test('the connection stays usable after error pages (keep-alive, pipelined)', async () => {
  const c = new Client(env.a.port);
  await c.ready;
  try {
    c.send(req('/nope') + req('/index.html', '', 'HEAD') + req('/nope', '', 'HEAD') + req('/digits.txt'), ['GET', 'HEAD', 'HEAD', 'GET']);
    await c.until(4);
    const rs = parseResponses(c.buf, ['GET', 'HEAD', 'HEAD', 'GET']);
    assert.deepEqual(rs.map((r) => r.status), [404, 200, 404, 200]);
    assert.equal(rs[0].text, PAGE_404);
    assert.equal(rs[2].text, '');
    assert.equal(rs[3].text, '0123456789');
  } finally {
    c.close();
  }
});
