// Precompressed siblings: name.br / name.gz served for name when Accept-Encoding allows,
// with Content-Encoding, the original type, their own length and ETag, and Vary.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { gzipSync, brotliCompressSync, gunzipSync, brotliDecompressSync } from 'node:zlib';
import { get, useSiteServer, startServer } from '../testing/helpers.mjs';

const APP = 'console.log("hello from app.js");\n'.repeat(50);
const GZ = gzipSync(APP);
const BR = brotliCompressSync(APP);
const env = useSiteServer();

before(() => {
  const { root, base } = env.site;
  writeFileSync(path.join(root, 'app.js'), APP);
  writeFileSync(path.join(root, 'app.js.gz'), GZ);
  writeFileSync(path.join(root, 'app.js.br'), BR);
  writeFileSync(path.join(root, 'only.css'), 'p{}\n');
  writeFileSync(path.join(root, 'only.css.gz'), gzipSync('p{}\n'));
  // A sibling that is a symlink out of the root, and one that is a directory: never served.
  writeFileSync(path.join(root, 'link.txt'), 'plain\n');
  writeFileSync(path.join(base, 'outside', 'evil.gz'), gzipSync('evil\n'));
  symlinkSync(path.join(base, 'outside', 'evil.gz'), path.join(root, 'link.txt.gz'));
  writeFileSync(path.join(root, 'dir.txt'), 'plain\n');
  mkdirSync(path.join(root, 'dir.txt.br'));
});

const js = (ae) => get(env.port, '/app.js', ae === undefined ? {} : { 'Accept-Encoding': ae });

test('br preferred: Content-Encoding, original Content-Type, its own length, Vary', async () => {
  const res = await js('gzip, deflate, br');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-encoding'], 'br');
  assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(res.headers['content-length'], String(BR.length));
  assert.equal(res.headers.vary, 'Accept-Encoding');
  assert.ok(res.body.equals(BR));
  assert.equal(brotliDecompressSync(res.body).toString(), APP);
});

test('gzip when br is not accepted', async () => {
  for (const ae of ['gzip', 'br;q=0, gzip', 'x-gzip', 'gzip;q=1.0, br;q=0.5', '*;q=0.5, gzip;q=0.9']) {
    const res = await js(ae);
    assert.equal(res.headers['content-encoding'], 'gzip', ae);
    assert.ok(res.body.equals(GZ), ae);
  }
  assert.equal(gunzipSync((await js('gzip')).body).toString(), APP);
});

test("'*' accepts br; q=0 refuses; identity then, still with Vary", async () => {
  assert.equal((await js('*')).headers['content-encoding'], 'br');
  assert.equal((await js('BR;Q=0.8')).headers['content-encoding'], 'br');
  for (const ae of [undefined, '', 'identity', '*;q=0', 'br;q=0, gzip;q=0', 'gzip;q=0, *;q=0', 'deflate', 'br;q=0.0000']) {
    const res = await js(ae);
    assert.equal(res.headers['content-encoding'], undefined, String(ae));
    assert.equal(res.text, APP, String(ae));
    assert.equal(res.headers.vary, 'Accept-Encoding', String(ae));
  }
});

test('each variant has its own ETag, and conditionals use it', async () => {
  const [plain, gz, br] = await Promise.all([js(), js('gzip'), js('br')]);
  assert.equal(new Set([plain.headers.etag, gz.headers.etag, br.headers.etag]).size, 3);
  const hit = await get(env.port, '/app.js', { 'Accept-Encoding': 'br', 'If-None-Match': br.headers.etag });
  assert.equal(hit.status, 304);
  assert.equal(hit.headers.vary, 'Accept-Encoding');
  const miss = await get(env.port, '/app.js', { 'If-None-Match': br.headers.etag });
  assert.equal(miss.status, 200, 'the identity variant does not match the br ETag');
  assert.equal(miss.text, APP);
});

test('a range applies to the encoded bytes; several ranges get the whole variant', async () => {
  const res = await get(env.port, '/app.js', { 'Accept-Encoding': 'br', Range: 'bytes=0-9' });
  assert.equal(res.status, 206);
  assert.equal(res.headers['content-encoding'], 'br');
  assert.equal(res.headers['content-range'], `bytes 0-9/${BR.length}`);
  assert.ok(res.body.equals(BR.subarray(0, 10)));
  const multi = await get(env.port, '/app.js', { 'Accept-Encoding': 'gzip', Range: 'bytes=0-1,5-6' });
  assert.equal(multi.status, 200);
  assert.equal(multi.headers['content-encoding'], 'gzip');
  assert.ok(multi.body.equals(GZ));
});

test('HEAD: the variant headers without a body', async () => {
  const res = await get(env.port, '/app.js', { 'Accept-Encoding': 'br' }, 'HEAD');
  assert.equal(res.headers['content-encoding'], 'br');
  assert.equal(res.headers['content-length'], String(BR.length));
  assert.equal(res.body.length, 0);
});

test('only the sibling that exists is used', async () => {
  const res = await get(env.port, '/only.css', { 'Accept-Encoding': 'br, gzip' });
  assert.equal(res.headers['content-encoding'], 'gzip');
  assert.equal(res.headers['content-type'], 'text/css; charset=utf-8');
  assert.equal(gunzipSync(res.body).toString(), 'p{}\n');
});

test('a sibling that is a symlink or a directory is refused: the file itself goes', async () => {
  for (const [target, ae] of [['/link.txt', 'gzip'], ['/dir.txt', 'br']]) {
    const res = await get(env.port, target, { 'Accept-Encoding': ae });
    assert.equal(res.status, 200, target);
    assert.equal(res.headers['content-encoding'], undefined, target);
    assert.equal(res.text, 'plain\n', target);
  }
});

test('x.gz requested by name is served as-is, as application/gzip', async () => {
  const res = await get(env.port, '/app.js.gz', { 'Accept-Encoding': 'gzip, br' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/gzip');
  assert.equal(res.headers['content-encoding'], undefined);
  assert.ok(res.body.equals(GZ));
});

test('precompressed: false serves the file itself, without Vary', async () => {
  const { engine, port } = await startServer(env.site.root, { precompressed: false });
  try {
    const res = await get(port, '/app.js', { 'Accept-Encoding': 'br, gzip' });
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.headers.vary, undefined);
    assert.equal(res.text, APP);
  } finally {
    await engine.stop();
  }
});
