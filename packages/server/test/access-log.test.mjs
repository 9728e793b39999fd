// The access log: one entry per finished response, in batches, bounded, and harmless when
// the logger throws.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { createEngine, serveStatic } from '../dist/index.js';
import { makeSite, Client, req, raw } from '../testing/helpers.mjs';

let site;
before(() => {
  site = makeSite();
});
after(() => site.cleanup());

// An engine whose log calls are kept: `calls` holds each batch as delivered.
async function logged(options = {}) {
  const calls = [];
  const engine = createEngine({ root: site.root, threads: 1, accessLog: (entries) => calls.push(entries), ...options });
  const port = await engine.start();
  const entries = () => calls.flat();
  // The log trails the responses by a loop turn: wait (bounded) until `n` entries are in.
  const until = async (n, timeout = 5000) => {
    const end = Date.now() + timeout;
    while (entries().length < n) {
      if (Date.now() > end) throw new Error(`only ${entries().length} of ${n} access log entries: ${JSON.stringify(entries())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return entries();
  };
  return { engine, port, calls, entries, until };
}

test('static 200, 304, 404 and HEAD: every field of each entry', async () => {
  const s = await logged();
  const t0 = Date.now();
  try {
    const c = new Client(s.port);
    await c.ready;
    c.send(req('/digits.txt', 'Referer: http://example.test/from\r\nUser-Agent: probe/1.0\r\n'));
    await c.until(1);
    const etag = c.responses()[0].headers.etag;
    c.send(req('/digits.txt', `If-None-Match: ${etag}\r\n`));
    c.send(req('/missing.txt'));
    c.send(req('/digits.txt', '', 'HEAD'), ['GET', 'GET', 'GET', 'HEAD']);
    await c.until(4);
    c.send('GET /style.css HTTP/1.0\r\n\r\n');
    await c.untilClosed();
    const log = await s.until(5);
    assert.deepEqual(log.map((e) => [e.method, e.url, e.status, e.bytes]), [
      ['GET', '/digits.txt', 200, 10],
      ['GET', '/digits.txt', 304, 0],
      ['GET', '/missing.txt', 404, Buffer.byteLength('404 Not Found\n')],
      ['HEAD', '/digits.txt', 200, 0],
      ['GET', '/style.css', 200, 20],
    ]);
    const first = log[0];
    assert.equal(first.remoteAddress, '127.0.0.1');
    assert.equal(first.httpVersion, '1.1');
    assert.equal(first.referer, 'http://example.test/from');
    assert.equal(first.userAgent, 'probe/1.0');
    assert.equal(first.thread, 0);
    // Wall-clock ms of the response (the coarse clock may trail by a tick).
    assert.ok(first.time >= t0 - 1000 && first.time <= Date.now() + 1000, String(first.time));
    assert.equal(log[1].referer, '');
    assert.equal(log[4].httpVersion, '1.0');
    assert.deepEqual(Object.keys(first).sort(),
      ['bytes', 'httpVersion', 'method', 'referer', 'remoteAddress', 'status', 'thread', 'time', 'url', 'userAgent']);
  } finally {
    await s.engine.stop();
  }
});

test('quotes, backslashes, tabs and non-ASCII bytes in logged fields arrive intact', async () => {
  const s = await logged();
  try {
    const agent = 'probe "quoted" \\ back\tslash';
    const head = Buffer.concat([
      Buffer.from(`GET /digits.txt?q=%22x%22 HTTP/1.1\r\nHost: t\r\nUser-Agent: ${agent}\r\nReferer: http://r.test/`),
      Buffer.from('caf\u00e9', 'utf8'), // UTF-8 bytes (obs-text on the wire) read back as text
      Buffer.from('\r\nConnection: close\r\n\r\n'),
    ]);
    await raw(s.port, head);
    const [entry] = await s.until(1);
    assert.equal(entry.userAgent, agent);
    assert.equal(entry.referer, 'http://r.test/caf\u00e9');
    assert.equal(entry.url, '/digits.txt?q=%22x%22');
    assert.equal(entry.status, 200);
  } finally {
    await s.engine.stop();
  }
});

test('bytes is the body sent: a range, several ranges, a large file by sendfile', async () => {
  const s = await logged();
  try {
    const c = new Client(s.port);
    await c.ready;
    c.send(req('/digits.txt', 'Range: bytes=2-5\r\n'));
    c.send(req('/digits.txt', 'Range: bytes=0-1,4-6,8-\r\n'));
    c.send(req('/big.bin'));
    c.send(req('/big.bin', 'Range: bytes=0-99999,200000-299999\r\n'), ['GET', 'GET', 'GET', 'GET']);
    await c.until(4, 10000);
    c.close();
    const sent = c.responses().map((r) => Number(r.headers['content-length']));
    const log = await s.until(4);
    assert.deepEqual(log.map((e) => e.bytes), sent);
    assert.equal(log[0].status, 206);
  } finally {
    await s.engine.stop();
  }
});

test('error responses are logged: a 400 for bad framing, a 414', async () => {
  const s = await logged({ maxRequestLine: 64 });
  try {
    await raw(s.port, 'GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n');
    await raw(s.port, `GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: t\r\n\r\n`);
    const log = await s.until(2);
    assert.deepEqual(log.map((e) => e.status), [400, 414]);
    assert.equal(log[0].remoteAddress, '127.0.0.1');
  } finally {
    await s.engine.stop();
  }
});

test('a JS hook response is logged with its status and body bytes', async () => {
  const s = await logged({
    handler: (r) => ({ status: 201, headers: { 'content-type': 'text/plain' }, body: `made ${r.url}` }),
  });
  try {
    const c = new Client(s.port);
    await c.ready;
    c.send(req('/api/thing', 'User-Agent: hook-test\r\n'));
    c.send(req('/digits.txt'));
    c.send(req('/api/other', '', 'HEAD'), ['GET', 'GET', 'HEAD']);
    await c.until(3);
    c.close();
    const log = await s.until(3);
    // In the order the answers were ready: the static one may come before the JS answer
    // ahead of it on the connection.
    const byUrl = (a, b) => a[1].localeCompare(b[1]);
    assert.deepEqual(log.map((e) => [e.method, e.url, e.status, e.bytes]).sort(byUrl), [
      ['HEAD', '/api/other', 201, 0],
      ['GET', '/api/thing', 201, Buffer.byteLength('made /api/thing')],
      ['GET', '/digits.txt', 200, 10],
    ]);
    assert.equal(log.find((e) => e.url === '/api/thing').userAgent, 'hook-test');
  } finally {
    await s.engine.stop();
  }
});

test('a streamed JS hook response is logged once it ends, with the body bytes JS streamed', async () => {
  const s = await logged({
    handler: () => ({
      status: 202,
      body: (async function* () {
        yield 'first,';
        yield Buffer.from('second');
      })(),
    }),
  });
  try {
    const c = new Client(s.port);
    await c.ready;
    c.send(req('/stream'));
    // The whole chunked body, not just the head: a client gone before the stream's end is
    // logged with what JS had streamed by then (next tests).
    await c.wait(() => c.buf.includes('\r\n0\r\n\r\n'), 5000, 'the last chunk');
    c.close();
    const [entry] = await s.until(1);
    assert.deepEqual([entry.url, entry.status, entry.bytes], ['/stream', 202, Buffer.byteLength('first,second')]);
  } finally {
    await s.engine.stop();
  }
});

// Resolves with the request once the handler has it; the handler answers only when its client
// is gone (the answer then goes nowhere), so nothing is left waiting after the test.
function handlerUntilGone(answer) {
  let seen;
  const called = new Promise((resolve) => (seen = resolve));
  const handler = (r) => {
    seen(r);
    return new Promise((resolve) => r.signal.addEventListener('abort', () => resolve(answer)));
  };
  return { handler, called };
}

test('a client gone before the JS hook answers is logged with 499, as nginx does', async () => {
  const { handler, called } = handlerUntilGone({ body: 'too late' });
  const s = await logged({ handler });
  try {
    const c = new Client(s.port);
    await c.ready;
    c.send(req('/api/slow', 'User-Agent: leaver\r\n'));
    await called;
    c.sock.resetAndDestroy(); // a FIN alone may be a client waiting half-closed
    const [entry] = await s.until(1);
    assert.deepEqual([entry.method, entry.url, entry.status, entry.bytes, entry.userAgent], ['GET', '/api/slow', 499, 0, 'leaver']);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(s.entries().length, 1, 'one entry, not another when the late answer comes');
  } finally {
    await s.engine.stop();
  }
});

test('a client gone in the middle of a streamed JS answer: its status and the bytes JS streamed', async () => {
  let gone;
  const left = new Promise((resolve) => (gone = resolve));
  const s = await logged({
    handler: (r) => {
      r.signal.addEventListener('abort', gone);
      return {
        status: 202,
        body: (async function* () {
          yield 'first,';
          await left;
        })(),
      };
    },
  });
  try {
    const c = new Client(s.port);
    await c.ready;
    c.send(req('/stream'));
    await c.wait(() => c.buf.includes('first,'), 5000, 'the first chunk');
    c.sock.resetAndDestroy();
    const [entry] = await s.until(1);
    assert.deepEqual([entry.url, entry.status, entry.bytes], ['/stream', 202, Buffer.byteLength('first,')]);
  } finally {
    await s.engine.stop();
  }
});

test('requests the JS hook still owes when the grace period of stop() ends are logged with 499', async () => {
  const { handler, called } = handlerUntilGone({ body: 'too late' });
  const s = await logged({ handler });
  const c = new Client(s.port);
  await c.ready;
  c.send(req('/api/owed'));
  await called;
  await s.engine.stop({ grace: 50 });
  const [entry] = await s.until(1);
  assert.deepEqual([entry.url, entry.status], ['/api/owed', 499]);
  c.close();
});

test('pipelined requests on one keep-alive connection: one entry each, in order', async () => {
  const s = await logged({ threads: 2 });
  try {
    const targets = Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? `/missing-${i}` : `/digits.txt?n=${i}`));
    const c = new Client(s.port);
    await c.ready;
    c.send(targets.map((t) => req(t)).join(''));
    await c.until(targets.length);
    c.close();
    const log = await s.until(targets.length);
    assert.deepEqual(log.map((e) => e.url), targets);
    assert.deepEqual(log.map((e) => e.status), targets.map((t) => (t.startsWith('/missing') ? 404 : 200)));
    assert.equal(new Set(log.map((e) => e.thread)).size, 1, 'one connection lives on one thread');
  } finally {
    await s.engine.stop();
  }
});

test('entries arrive in batches: far fewer logger calls than entries', async () => {
  const s = await logged();
  try {
    const perConnection = 250;
    const clients = Array.from({ length: 4 }, () => new Client(s.port));
    await Promise.all(clients.map((c) => c.ready));
    for (const c of clients) c.send(req('/digits.txt').repeat(perConnection));
    await Promise.all(clients.map((c) => c.until(perConnection, 20000)));
    for (const c of clients) c.close();
    const total = clients.length * perConnection;
    const log = await s.until(total);
    assert.equal(log.length, total);
    assert.ok(s.calls.length * 4 <= total, `${s.calls.length} calls for ${total} entries`);
    assert.ok(s.calls.every((batch) => batch.length <= 1024), 'a batch holds at most 1024 entries');
  } finally {
    await s.engine.stop();
  }
});

test('a throwing or rejecting logger is reported and the server keeps serving', async () => {
  for (const kind of ['throw', 'reject']) {
    const errors = [];
    let calls = 0;
    const engine = serveStatic(site.root, {
      threads: 1,
      accessLog: kind === 'throw'
        ? () => {
            calls++;
            throw new Error('logger broke');
          }
        : async () => {
            calls++;
            throw new Error('logger broke');
          },
      onHandlerError: (err) => errors.push(err),
    });
    const port = await engine.start();
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/digits.txt`);
        assert.equal(await res.text(), '0123456789');
        const end = Date.now() + 5000;
        while (errors.length <= i && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(calls >= 1, kind);
      assert.equal(errors.length, calls, kind);
      assert.match(errors[0].message, /logger broke/);
    } finally {
      await engine.stop();
    }
  }
});

test('JS blocked: past accessLogLimit entries are dropped and counted, never queued without end', { timeout: 30000 }, async () => {
  const limit = 50;
  const burst = 600;
  const s = await logged({ accessLogLimit: limit });
  try {
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(new URL('../testing/burst-worker.mjs', import.meta.url), {
      workerData: { port: s.port, count: burst, target: '/digits.txt', flag },
    });
    await once(worker, 'online');
    // The main thread, which runs the logger, lets the burst start and stays blocked until
    // every response is out (bounded by 15 s): the engine must keep answering and stop
    // queueing for it.
    Atomics.store(flag, 1, 1);
    Atomics.notify(flag, 1);
    Atomics.wait(flag, 0, 0, 15000);
    assert.equal(Atomics.load(flag, 0), burst, 'every request answered while JS was blocked');
    await worker.terminate();
    const dropped = () => s.engine.stats().reduce((n, t) => n + t.accessLogDropped, 0);
    const end = Date.now() + 5000;
    while (s.entries().length + dropped() < burst && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.equal(s.entries().length + dropped(), burst, 'each entry either delivered or counted as dropped');
    assert.ok(s.entries().length <= limit, `${s.entries().length} delivered, limit ${limit}`);
    assert.ok(dropped() >= burst - limit);
    // Once JS catches up, logging resumes.
    const seen = s.entries().length;
    await fetch(`http://127.0.0.1:${s.port}/style.css`).then((r) => r.text());
    const log = await s.until(seen + 1);
    assert.equal(log.at(-1).url, '/style.css');
  } finally {
    await s.engine.stop();
  }
});
