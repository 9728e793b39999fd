// Input that arrives in one burst larger than one turn's reads (4 x 64 KiB), while the
// connection waits on JS or on a file job, is still read whole and answered in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../dist/index.js';
import { createHash, randomBytes } from 'node:crypto';
import { makeSite, startServer, Client, req, BIG } from '../testing/helpers.mjs';

test('a 900 KiB request body sent at once reaches the handler whole', async (t) => {
  const engine = createEngine({ threads: 1, bodyTimeout: 3000, handler: async (r) => ({ body: String((await r.buffer()).length) }) });
  const port = await engine.start();
  t.after(() => engine.stop());
  const body = Buffer.alloc(900 * 1024, 'x');
  const c = new Client(port);
  await c.ready;
  t.after(() => c.close());
  c.send(Buffer.concat([Buffer.from(`POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`), body]), ['POST']);
  await c.until(1, 10000);
  const [res] = c.responses();
  assert.equal(res.status, 200);
  assert.equal(res.text, String(body.length));
});

test('a pipelined burst of 8000 requests (over 256 KiB) is answered in full, in order', async (t) => {
  const site = makeSite();
  const { engine, port } = await startServer(site.root, { threads: 1 });
  t.after(async () => {
    await engine.stop();
    site.cleanup();
  });
  const n = 8000;
  const targets = Array.from({ length: n }, (_, i) => (i % 2 ? '/digits.txt' : '/missing-file-to-pad-the-request.txt'));
  const burst = targets.map((p) => req(p)).join('');
  assert.ok(burst.length > 256 * 1024);
  const c = new Client(port);
  await c.ready;
  t.after(() => c.close());
  c.send(burst, targets.map(() => 'GET'));
  await c.until(n, 20000);
  const statuses = c.responses().map((r) => r.status);
  assert.equal(statuses.length, n);
  assert.ok(statuses.every((s, i) => s === (i % 2 ? 200 : 404)));
});

// Each burst below is larger than the engine reads in one turn plus what it holds while it
// cannot go on (a JS answer, a file job, a full body window), so the socket still holds bytes
// when reading resumes: without a re-registration no event would come and these would hang.
const padded = (target) => req(target, `X-Pad: ${'p'.repeat(200)}\r\n`);

test('a 2 MiB body sent at once reaches a slow streaming reader whole', async (t) => {
  const engine = createEngine({
    threads: 1,
    bodyTimeout: 5000,
    maxBodySize: 4 * 1024 * 1024,
    handler: async (r) => {
      const hash = createHash('sha256');
      let n = 0;
      for await (const chunk of r.body) {
        hash.update(chunk);
        n += chunk.length;
        await new Promise((resolve) => setTimeout(resolve, 2));  // the window fills meanwhile
      }
      return { body: `${n} ${hash.digest('hex')}` };
    },
  });
  const port = await engine.start();
  t.after(() => engine.stop());
  const body = randomBytes(2 * 1024 * 1024);
  const c = new Client(port);
  await c.ready;
  t.after(() => c.close());
  c.send(Buffer.concat([Buffer.from(`POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`), body]), ['POST']);
  await c.until(1, 15000);
  const [res] = c.responses();
  assert.equal(res.status, 200);
  assert.equal(res.text, `${body.length} ${createHash('sha256').update(body).digest('hex')}`);
});

// `first` holds the connection up; 4000 small pipelined static requests (~1 MiB) wait behind it.
async function burstBehind(t, first, options, checkFirst) {
  const site = makeSite();
  const { engine, port } = await startServer(site.root, { threads: 1, ...options });
  t.after(async () => {
    await engine.stop();
    site.cleanup();
  });
  const n = 4000;
  const burst = padded(first) + padded('/digits.txt').repeat(n);
  assert.ok(burst.length > 512 * 1024);
  const c = new Client(port);
  await c.ready;
  t.after(() => c.close());
  c.send(burst, Array(n + 1).fill('GET'));
  await c.until(n + 1, 20000);
  const rs = c.responses();
  assert.equal(rs.length, n + 1);
  checkFirst(rs[0]);
  assert.ok(rs.slice(1).every((r) => r.status === 200 && r.text === '0123456789'));
}

test('a pipelined burst behind a slow JS answer is answered in full, in order', async (t) => {
  const handler = async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { body: 'slow' };
  };
  await burstBehind(t, '/slow', { handler }, (r) => assert.equal(`${r.status} ${r.text}`, '200 slow'));
});

test('a pipelined burst behind a file sent by the aio pool is answered in full, in order', async (t) => {
  await burstBehind(t, '/big.bin', {}, (r) => assert.ok(r.status === 200 && r.body.equals(BIG)));
});
