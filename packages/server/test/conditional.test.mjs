// Validators, conditional requests (RFC 9110 13) and byte ranges (RFC 9110 14).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { get, BIG, useSiteServer } from '../testing/helpers.mjs';

const env = useSiteServer();
let etag, lastModified;
beforeEach(() => validators());
// Each test first learns the file's validators from a plain GET.
async function validators() {
  const res = await get(env.port, '/digits.txt');
  etag = res.headers.etag;
  lastModified = res.headers['last-modified'];
}

const PAST = 'Thu, 01 Jan 1970 00:00:01 GMT';
const FUTURE = 'Fri, 01 Jan 2100 00:00:00 GMT';

test('strong ETag from inode, size and mtime; Last-Modified is the mtime', () => {
  const st = statSync(path.join(env.site.root, 'digits.txt'), { bigint: true });
  assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
  const [ino, size, mtime] = etag.slice(1, -1).split('-').map((h) => BigInt('0x' + h));
  assert.equal(ino, st.ino);
  assert.equal(size, st.size);
  assert.equal(mtime, st.mtimeNs);
  assert.equal(lastModified, new Date(Number(st.mtimeMs)).toUTCString());
});

test('If-None-Match: exact, in a list, weak form, and * give 304 without a body', async () => {
  for (const inm of [etag, `"zzz", ${etag}`, `W/${etag}`, '*']) {
    const res = await get(env.port, '/digits.txt', { 'If-None-Match': inm });
    assert.equal(res.status, 304, inm);
    assert.equal(res.headers.etag, etag);
    assert.equal(res.headers['content-length'], undefined);
  }
});

test('If-None-Match that does not match: 200, and it overrides If-Modified-Since', async () => {
  const res = await get(env.port, '/digits.txt', { 'If-None-Match': '"other"', 'If-Modified-Since': FUTURE });
  assert.equal(res.status, 200);
  assert.equal(res.text, '0123456789');
});

test('If-Modified-Since: 304 when not newer, 200 when the file is newer, ignored when invalid', async () => {
  assert.equal((await get(env.port, '/digits.txt', { 'If-Modified-Since': lastModified })).status, 304);
  assert.equal((await get(env.port, '/digits.txt', { 'If-Modified-Since': PAST })).status, 200);
  assert.equal((await get(env.port, '/digits.txt', { 'If-Modified-Since': 'yesterday' })).status, 200);
});

test('If-Match: 412 unless it matches strongly; * matches', async () => {
  assert.equal((await get(env.port, '/digits.txt', { 'If-Match': '"nope"' })).status, 412);
  assert.equal((await get(env.port, '/digits.txt', { 'If-Match': `W/${etag}` })).status, 412);
  assert.equal((await get(env.port, '/digits.txt', { 'If-Match': etag })).status, 200);
  assert.equal((await get(env.port, '/digits.txt', { 'If-Match': '*' })).status, 200);
});

test('If-Unmodified-Since: 412 when the file is newer, 200 otherwise', async () => {
  assert.equal((await get(env.port, '/digits.txt', { 'If-Unmodified-Since': PAST })).status, 412);
  assert.equal((await get(env.port, '/digits.txt', { 'If-Unmodified-Since': FUTURE })).status, 200);
});

test('Range first-last: 206 with Content-Range', async () => {
  const res = await get(env.port, '/digits.txt', { Range: 'bytes=2-5' });
  assert.equal(res.status, 206);
  assert.equal(res.text, '2345');
  assert.equal(res.headers['content-range'], 'bytes 2-5/10');
  assert.equal(res.headers['content-length'], '4');
});

test('Range open-ended and past the end is clipped', async () => {
  assert.equal((await get(env.port, '/digits.txt', { Range: 'bytes=7-' })).text, '789');
  const res = await get(env.port, '/digits.txt', { Range: 'bytes=8-100' });
  assert.equal(res.text, '89');
  assert.equal(res.headers['content-range'], 'bytes 8-9/10');
});

test('Range suffix, and a suffix longer than the file', async () => {
  assert.equal((await get(env.port, '/digits.txt', { Range: 'bytes=-3' })).text, '789');
  const res = await get(env.port, '/digits.txt', { Range: 'bytes=-50' });
  assert.equal(res.status, 206);
  assert.equal(res.text, '0123456789');
});

test('416 with Content-Range: bytes */size when nothing is satisfiable', async () => {
  for (const range of ['bytes=10-', 'bytes=99-100', 'bytes=-0']) {
    const res = await get(env.port, '/digits.txt', { Range: range });
    assert.equal(res.status, 416, range);
    assert.equal(res.headers['content-range'], 'bytes */10');
  }
  assert.equal((await get(env.port, '/empty.txt', { Range: 'bytes=0-' })).status, 416);
});

test('invalid Range syntax: the whole file with 200 (multiple ranges: multirange.test.mjs)', async () => {
  for (const range of ['bytes=5-2', 'items=0-1', 'bytes=a-b', 'bytes=0-1,x', 'bytes=']) {
    const res = await get(env.port, '/digits.txt', { Range: range });
    assert.equal(res.status, 200, range);
    assert.equal(res.text, '0123456789');
  }
});

test('If-Range: honoured when the ETag or date matches, whole file otherwise', async () => {
  assert.equal((await get(env.port, '/digits.txt', { Range: 'bytes=0-0', 'If-Range': etag })).status, 206);
  assert.equal((await get(env.port, '/digits.txt', { Range: 'bytes=0-0', 'If-Range': lastModified })).status, 206);
  assert.equal((await get(env.port, '/digits.txt', { Range: 'bytes=0-0', 'If-Range': '"stale"' })).status, 200);
  assert.equal((await get(env.port, '/digits.txt', { Range: 'bytes=0-0', 'If-Range': PAST })).status, 200);
});

test('a range of a large file (sendfile from an offset)', async () => {
  const res = await get(env.port, '/big.bin', { Range: 'bytes=100000-250000' });
  assert.equal(res.status, 206);
  assert.ok(res.body.equals(BIG.subarray(100000, 250001)));
});

test('HEAD ignores Range', async () => {
  const res = await get(env.port, '/digits.txt', { Range: 'bytes=0-1' }, 'HEAD');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-length'], '10');
});
