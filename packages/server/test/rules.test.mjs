// Cache-Control / Expires rules (first match wins) and custom header rules (every match adds),
// chosen by PathPattern; on 200, 206, 304 of files and on listings, not on errors.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { get, raw, useSiteServer } from '../testing/helpers.mjs';

const env = useSiteServer({
  cacheRules: [
    { match: '*.css', cacheControl: 'public, max-age=3600' },
    { match: '/assets/**', cacheControl: 'no-cache' },
    { match: 'v?.txt', cacheControl: 'max-age="60", s-maxage=5' },
    { match: '*.css', cacheControl: 'never: the first match wins' },
  ],
  headerRules: [
    { match: '/**', headers: { 'X-Frame-Options': 'DENY', 'Content-Length': '1', Connection: 'x' } },
    { match: '*.html', headers: { 'Content-Security-Policy': "default-src 'self'", 'Content-Language': 'en' } },
    { match: '/assets/*.js', headers: { 'X-Asset': 'yes' } },
    { match: '/**/v1.txt', headers: { 'X-Any-Depth': '1' } },
    { match: 'assets/sub/*', headers: { 'X-Sub': '1' } },
  ],
});

before(() => {
  mkdirSync(path.join(env.site.root, 'assets', 'sub'), { recursive: true });
  writeFileSync(path.join(env.site.root, 'assets', 'app.js'), 'app()\n');
  writeFileSync(path.join(env.site.root, 'assets', 'sub', 'deep.js'), 'deep()\n');
  writeFileSync(path.join(env.site.root, 'assets', 'sub', 'x.css'), 'x{}\n');
  writeFileSync(path.join(env.site.root, 'v1.txt'), 'v1\n');
  writeFileSync(path.join(env.site.root, 'assets', 'sub', 'v1.txt'), 'v1\n');
  writeFileSync(path.join(env.site.root, 'v10.txt'), 'v10\n');
});

const seconds = (date) => Date.parse(date) / 1000;

test('Cache-Control from the first matching rule, Expires = Date + max-age', async () => {
  const res = await get(env.port, '/style.css');
  assert.equal(res.status, 200);
  assert.equal(res.headers['cache-control'], 'public, max-age=3600');
  // Date is refreshed once a second: Expires is computed from the clock, at most a second apart.
  const delta = seconds(res.headers.expires) - seconds(res.headers.date);
  assert.ok(delta >= 3599 && delta <= 3601, `Expires - Date = ${delta}`);
  assert.match(res.headers.expires, /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
});

test('rule order decides: a css file under /assets matches *.css first', async () => {
  assert.equal((await get(env.port, '/assets/sub/x.css')).headers['cache-control'], 'public, max-age=3600');
  const js = await get(env.port, '/assets/sub/deep.js');
  assert.equal(js.headers['cache-control'], 'no-cache');
  assert.equal(js.headers.expires, undefined, 'no max-age, no Expires');
});

test("'?' is one character; a quoted max-age counts, s-maxage does not", async () => {
  const res = await get(env.port, '/v1.txt');
  assert.equal(res.headers['cache-control'], 'max-age="60", s-maxage=5');
  const delta = seconds(res.headers.expires) - seconds(res.headers.date);
  assert.ok(delta >= 59 && delta <= 61, `Expires - Date = ${delta}`);
  assert.equal((await get(env.port, '/v10.txt')).headers['cache-control'], undefined);
});

test('no matching cache rule: no Cache-Control, no Expires', async () => {
  const res = await get(env.port, '/digits.txt');
  assert.equal(res.headers['cache-control'], undefined);
  assert.equal(res.headers.expires, undefined);
});

test('every matching header rule adds its headers; * stays within a segment', async () => {
  const app = await get(env.port, '/assets/app.js');
  assert.equal(app.headers['x-frame-options'], 'DENY');
  assert.equal(app.headers['x-asset'], 'yes');
  assert.equal((await get(env.port, '/assets/sub/deep.js')).headers['x-asset'], undefined);
  const html = await get(env.port, '/index.html');
  assert.equal(html.headers['x-frame-options'], 'DENY');
  assert.equal(html.headers['content-security-policy'], "default-src 'self'");
  assert.equal(html.headers['content-language'], 'en');
});

test("'**/' also matches no segment; a pattern with '/' but no leading '/' is rooted", async () => {
  assert.equal((await get(env.port, '/v1.txt')).headers['x-any-depth'], '1');
  assert.equal((await get(env.port, '/assets/sub/v1.txt')).headers['x-any-depth'], '1');
  assert.equal((await get(env.port, '/v10.txt')).headers['x-any-depth'], undefined);
  assert.equal((await get(env.port, '/assets/sub/v1.txt')).headers['x-sub'], '1');
  assert.equal((await get(env.port, '/assets/app.js')).headers['x-sub'], undefined);
});

test('a directory URL is matched by the index file it serves', async () => {
  const res = await get(env.port, '/');
  assert.equal(res.headers['content-language'], 'en');
});

test('rules cannot replace the framing headers the engine owns', async () => {
  const { text } = await raw(env.port, 'GET /digits.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  assert.equal(text.match(/^content-length:/gim).length, 1);
  assert.match(text, /\r\nContent-Length: 10\r\n/);
  assert.doesNotMatch(text, /Connection: x/);
  assert.ok(text.endsWith('\r\n\r\n0123456789'));
});

test('304 keeps Cache-Control, Expires and non-body headers, drops Content-* body metadata', async () => {
  const first = await get(env.port, '/index.html');
  const res = await get(env.port, '/index.html', { 'If-None-Match': first.headers.etag });
  assert.equal(res.status, 304);
  assert.equal(res.headers['x-frame-options'], 'DENY');
  assert.equal(res.headers['content-security-policy'], "default-src 'self'");
  assert.equal(res.headers['content-language'], undefined);
  const css = await get(env.port, '/style.css', { 'If-None-Match': (await get(env.port, '/style.css')).headers.etag });
  assert.equal(css.status, 304);
  assert.equal(css.headers['cache-control'], 'public, max-age=3600');
  assert.ok(css.headers.expires);
});

test('206 carries the rules too', async () => {
  const res = await get(env.port, '/style.css', { Range: 'bytes=0-3' });
  assert.equal(res.status, 206);
  assert.equal(res.headers['cache-control'], 'public, max-age=3600');
  assert.equal(res.headers['x-frame-options'], 'DENY');
});

test('error responses get no rule headers', async () => {
  for (const target of ['/missing.css', '/.secret']) {
    const res = await get(env.port, target);
    assert.ok(res.status === 404 || res.status === 403);
    assert.equal(res.headers['cache-control'], undefined, target);
    assert.equal(res.headers['x-frame-options'], undefined, target);
  }
});
