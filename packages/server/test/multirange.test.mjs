// Several ranges in one request: multipart/byteranges, sorted and coalesced, capped, and never
// larger than the file (amplification gets the whole file with 200 instead).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, BIG, useSiteServer, startServer, Client, req } from '../testing/helpers.mjs';
import { boundaryOf, parseByteranges } from '../testing/multipart.mjs';

const env = useSiteServer();

function multipart(res) {
  assert.equal(res.status, 206);
  assert.equal(res.headers['content-length'], String(res.body.length));
  assert.equal(res.headers['content-range'], undefined);
  return parseByteranges(res.body, boundaryOf(res.headers['content-type']));
}

test('two ranges: 206 multipart/byteranges, byte-exact framing and total Content-Length', async () => {
  const res = await get(env.port, '/digits.txt', { Range: 'bytes=0-1,4-5' });
  const boundary = boundaryOf(res.headers['content-type']);
  const part = (r, data) =>
    `\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes ${r}/10\r\n\r\n${data}`;
  const expected = part('0-1', '01') + part('4-5', '45') + `\r\n--${boundary}--\r\n`;
  assert.equal(res.status, 206);
  assert.equal(res.text, expected);
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(expected)));
  assert.ok(res.headers.etag);
  assert.equal(res.headers['accept-ranges'], 'bytes');
});

test('ranges are sorted and overlapping ones merged', async () => {
  const parts = multipart(await get(env.port, '/digits.txt', { Range: 'bytes=7-8, 0-1,1-2' }));
  assert.deepEqual(parts.map((p) => [p.first, p.last, p.body.toString()]), [[0, 2, '012'], [7, 8, '78']]);
  for (const p of parts) assert.equal(p.headers['content-type'], 'text/plain; charset=utf-8');
});

test('ranges that coalesce into one give a plain 206', async () => {
  for (const range of ['bytes=0-1,2-3', 'bytes=2-3,0-2', 'bytes=0-3,1-2']) {
    const res = await get(env.port, '/digits.txt', { Range: range });
    assert.equal(res.status, 206, range);
    assert.equal(res.headers['content-range'], 'bytes 0-3/10', range);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.text, '0123');
  }
});

test('unsatisfiable ranges among others are dropped; all unsatisfiable is 416', async () => {
  const parts = multipart(await get(env.port, '/digits.txt', { Range: 'bytes=0-0,50-60,-2' }));
  assert.deepEqual(parts.map((p) => p.body.toString()), ['0', '89']);
  const res = await get(env.port, '/digits.txt', { Range: 'bytes=50-,60-70' });
  assert.equal(res.status, 416);
  assert.equal(res.headers['content-range'], 'bytes */10');
});

test('amplification: ranges adding up to more than the file get 200 with the whole file', async () => {
  for (const range of ['bytes=0-,0-', 'bytes=0-9,0-9', 'bytes=-10,0-0']) {
    const res = await get(env.port, '/digits.txt', { Range: range });
    assert.equal(res.status, 200, range);
    assert.equal(res.text, '0123456789');
  }
});

test('a malformed element anywhere voids the whole header (200)', async () => {
  const res = await get(env.port, '/digits.txt', { Range: 'bytes=0-1,4-x' });
  assert.equal(res.status, 200);
  assert.equal(res.text, '0123456789');
});

test('more ranges than maxRanges after coalescing: 200 with the whole file', async () => {
  const { engine, port } = await startServer(env.site.root, { maxRanges: 2 });
  try {
    assert.equal((await get(port, '/digits.txt', { Range: 'bytes=0-0,2-2' })).status, 206);
    const res = await get(port, '/digits.txt', { Range: 'bytes=0-0,2-2,4-4' });
    assert.equal(res.status, 200);
    assert.equal(res.text, '0123456789');
    // Three requested, two after coalescing: still within the cap.
    assert.equal(multipart(await get(port, '/digits.txt', { Range: 'bytes=0-0,1-1,4-4' })).length, 2);
  } finally {
    await engine.stop();
  }
});

test('large parts go out as file pieces: bytes parsed back equal the file', async () => {
  const res = await get(env.port, '/big.bin', { Range: 'bytes=0-99,100000-199999,250000-' });
  const parts = multipart(res);
  assert.deepEqual(parts.map((p) => [p.first, p.last, p.size]), [[0, 99, BIG.length], [100000, 199999, BIG.length], [250000, BIG.length - 1, BIG.length]]);
  for (const p of parts) {
    assert.equal(p.headers['content-type'], 'application/octet-stream');
    assert.ok(p.body.equals(BIG.subarray(p.first, p.last + 1)));
  }
});

test('pipelined multi-range responses on one connection stay whole and in order', async () => {
  const c = new Client(env.port);
  await c.ready;
  try {
    c.send(req('/big.bin', 'Range: bytes=-70000,0-69999\r\n') + req('/digits.txt', 'Range: bytes=1-1,3-3\r\n') + req('/big.bin', 'Range: bytes=5-5,100000-\r\n'));
    await c.until(3);
    const [a, b, d] = c.responses();
    for (const [res, want] of [[a, [[0, 69999], [BIG.length - 70000, BIG.length - 1]]], [d, [[5, 5], [100000, BIG.length - 1]]]]) {
      const parts = multipart(res);
      assert.deepEqual(parts.map((p) => [p.first, p.last]), want);
      for (const p of parts) assert.ok(p.body.equals(BIG.subarray(p.first, p.last + 1)));
    }
    assert.deepEqual(multipart(b).map((p) => p.body.toString()), ['1', '3']);
  } finally {
    c.close();
  }
});

test('If-Range that does not match turns a multi-range request into 200', async () => {
  const res = await get(env.port, '/digits.txt', { Range: 'bytes=0-0,2-2', 'If-Range': '"nope"' });
  assert.equal(res.status, 200);
  assert.equal(res.text, '0123456789');
});
