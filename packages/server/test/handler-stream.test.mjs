// The JS hook with streams: request bodies read as they arrive with backpressure to the
// client, responses streamed chunked or with a checked Content-Length, and the client
// going away mid-request or mid-response.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createEngine } from '../dist/index.js';
import { raw, parseResponses, Client, req, get } from '../testing/helpers.mjs';

async function withEngine(options, fn) {
  const engine = createEngine({ threads: 1, ...options });
  const port = await engine.start();
  // A running engine does not keep node alive, and some waits here have no socket open.
  const hold = setInterval(() => {}, 1000);
  try {
    await fn(port, engine);
  } finally {
    clearInterval(hold);
    await engine.stop({ grace: 0 });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha = (buf) => createHash('sha256').update(buf).digest('hex');

function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

// Head and body of one response whose body is chunked, from raw bytes.
function dechunk(buf) {
  const headEnd = buf.indexOf('\r\n\r\n');
  const head = buf.subarray(0, headEnd).toString('latin1');
  const parts = [];
  let pos = headEnd + 4;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', pos);
    if (lineEnd < 0) return { head, body: Buffer.concat(parts), complete: false };
    const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16);
    if (size === 0) return { head, body: Buffer.concat(parts), complete: buf.subarray(lineEnd, lineEnd + 4).toString() === '\r\n\r\n', rest: buf.subarray(lineEnd + 4) };
    // Called on partial input too: a chunk not all here yet is no error.
    if (buf.length < lineEnd + 4 + size) return { head, body: Buffer.concat(parts), complete: false };
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    assert.equal(buf.subarray(lineEnd + 2 + size, lineEnd + 4 + size).toString(), '\r\n', 'chunk ends in CRLF');
    pos = lineEnd + 4 + size;
  }
}

// What the kernel can buffer between a client and a server that stops reading.
function socketBuffers() {
  const max = (file) => Number(readFileSync(file, 'utf8').trim().split(/\s+/)[2]);
  return max('/proc/sys/net/ipv4/tcp_rmem') + max('/proc/sys/net/ipv4/tcp_wmem');
}

test('a large request body waits for a slow reader: the client is held back, then every byte arrives', { timeout: 60000 }, async () => {
  const spare = 8 << 20;
  const total = socketBuffers() + 2 * spare;
  const body = randomBytes(total);
  const arrived = deferred();
  const release = deferred();
  const handler = async (r) => {
    arrived.resolve(r);
    await release.promise;
    const hash = createHash('sha256');
    let n = 0;
    for await (const chunk of r.body) {
      hash.update(chunk);
      n += chunk.length;
    }
    return { body: `${n} ${hash.digest('hex')}` };
  };
  await withEngine({ handler, maxBodySize: total }, async (port) => {
    const sock = net.connect(port, '127.0.0.1');
    await once(sock, 'connect');
    const chunks = [];
    sock.on('data', (d) => chunks.push(d));
    let accepted = 0; // bytes the kernel took from the client
    sock.write(`POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: ${total}\r\n\r\n`);
    const writing = (async () => {
      for (let off = 0; off < total; off += 65536) {
        const piece = body.subarray(off, off + 65536);
        if (!sock.write(piece, () => (accepted += piece.length))) await once(sock, 'drain');
      }
    })();
    const r = await arrived.promise;
    assert.equal(r.method, 'POST');
    // Wait until the client's writes stall (a bound on waiting, not a measurement).
    let last = -1;
    for (let stable = 0; stable < 5; ) {
      await sleep(40);
      stable = accepted === last ? stable + 1 : 0;
      last = accepted;
    }
    assert.ok(accepted < total - spare, `the client was held back: ${accepted} of ${total} bytes taken while JS read nothing`);
    release.resolve();
    await writing;
    await new Promise((resolve) => sock.on('end', resolve).end());
    const [res] = parseResponses(Buffer.concat(chunks));
    assert.equal(res.status, 200);
    assert.equal(res.text, `${total} ${sha(body)}`);
  });
});

test('a chunked upload reaches JS piece by piece: the head before the body is complete', { timeout: 20000 }, async () => {
  const arrived = deferred();
  const second = deferred();
  const pieces = [];
  const handler = async (r) => {
    arrived.resolve();
    for await (const chunk of r.body) {
      pieces.push(chunk.toString());
      if (pieces.join('') === 'hello ') second.resolve();
    }
    return { body: pieces.join('') };
  };
  await withEngine({ handler }, async (port) => {
    const c = new Client(port);
    await c.ready;
    c.send('PUT /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    await arrived.promise; // the handler runs while the client still holds the rest back
    c.send('1\r\n \r\n');
    await second.promise; // in JS before the client sends the rest
    c.send('5\r\nworld\r\n0\r\n\r\n');
    await c.until(1);
    assert.equal(c.responses()[0].text, 'hello world');
    c.close();
  });
});

test('req.buffer() and req.text() collect a streamed body; a body JS never reads does not block the next request', { timeout: 20000 }, async () => {
  const big = randomBytes(3 << 20);
  const handler = async (r) => {
    if (r.url === '/ignore') return { body: 'ignored' };
    const b = await r.buffer();
    return { body: `${b.length} ${sha(b)}` };
  };
  await withEngine({ handler, maxBodySize: 16 << 20 }, async (port) => {
    const head = (t) => `POST ${t} HTTP/1.1\r\nHost: t\r\nContent-Length: ${big.length}\r\n\r\n`;
    const { buf } = await raw(port, [head('/collect'), big, head('/ignore'), big, req('/last', 'Connection: close\r\n')], { timeout: 10000 });
    const rs = parseResponses(buf);
    assert.deepEqual(rs.map((r) => r.text), [`${big.length} ${sha(big)}`, 'ignored', `0 ${sha(Buffer.alloc(0))}`]);
  });
});

test('a streamed response goes chunked on HTTP/1.1 and close-delimited on HTTP/1.0', async () => {
  const handler = () => ({ headers: { 'Content-Type': 'text/plain' }, body: Readable.from(['ab', Buffer.from('c'), 'def']) });
  await withEngine({ handler }, async (port) => {
    const one = await raw(port, req('/s', 'Connection: close\r\n'));
    assert.match(one.text, /\r\nTransfer-Encoding: chunked\r\n/);
    assert.ok(one.text.endsWith('\r\n\r\n2\r\nab\r\n1\r\nc\r\n3\r\ndef\r\n0\r\n\r\n'), one.text);
    assert.equal(dechunk(one.buf).body.toString(), 'abcdef');
    const ten = await raw(port, 'GET /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', { keepOpen: true });
    assert.doesNotMatch(ten.text, /Transfer-Encoding|Content-Length/i);
    assert.match(ten.text, /\r\nConnection: close\r\n/);
    assert.ok(ten.text.endsWith('\r\n\r\nabcdef'));
    assert.ok(ten.closed, 'the end of the body is the end of the connection');
  });
});

test('a large streamed response with backpressure arrives whole, and keep-alive goes on after it', { timeout: 30000 }, async () => {
  const big = randomBytes(8 << 20);
  async function* pieces() {
    for (let off = 0; off < big.length; off += 100000) yield big.subarray(off, off + 100000);
  }
  await withEngine({ handler: (r) => (r.url === '/big' ? { body: pieces() } : { body: 'after' }) }, async (port) => {
    const c = new Client(port);
    c.send(req('/big') + req('/after'));
    await c.wait(() => {
      const d = c.buf.length > big.length ? dechunk(c.buf) : null;
      return d?.complete && d.rest.includes('after');
    }, 20000, 'both responses');
    const d = dechunk(c.buf);
    assert.equal(d.body.length, big.length);
    assert.equal(sha(d.body), sha(big));
    assert.match(d.rest.toString(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nafter$/);
    c.close();
  });
});

test('Content-Length with a stream: a short body closes the connection, a long one is cut at the length', async () => {
  const handler = (r) => ({
    headers: { 'Content-Length': '10' },
    body: Readable.from(r.url === '/short' ? ['abc'] : ['0123456789', 'SMUGGLED']),
  });
  await withEngine({ handler, onHandlerError: () => {} }, async (port) => {
    const short = await raw(port, req('/short') + req('/next'), { keepOpen: true });
    assert.match(short.text, /\r\nContent-Length: 10\r\n/);
    assert.ok(short.text.endsWith('\r\n\r\nabc'), short.text);
    assert.ok(short.closed, 'closed rather than leave the client waiting for 7 bytes');
    assert.equal((short.text.match(/HTTP\/1\.1/g) ?? []).length, 1, 'nothing follows the short body');
    const long = await raw(port, req('/long') + req('/long', 'Connection: close\r\n'));
    const rs = parseResponses(long.buf);
    assert.deepEqual(rs.map((r) => r.text), ['0123456789', '0123456789']);
    assert.ok(!long.text.includes('SMUGGLED'));
  });
});

test('the client leaving mid-response aborts req.signal and stops the stream; others are still served', { timeout: 20000 }, async () => {
  const aborted = deferred();
  const stopped = deferred();
  let sent = 0;
  async function* endless(signal) {
    try {
      while (!signal.aborted) {
        sent++;
        yield Buffer.alloc(65536, 'x');
      }
    } finally {
      stopped.resolve();
    }
  }
  const handler = (r) => {
    if (r.url !== '/endless') return { body: 'still here' };
    r.signal.addEventListener('abort', () => aborted.resolve(r.signal.reason));
    return { body: endless(r.signal) };
  };
  await withEngine({ handler }, async (port) => {
    const c = new Client(port);
    c.send(req('/endless'));
    await c.wait(() => c.buf.length > 1 << 20, 5000, 'a MiB of the endless body');
    c.close();
    const reason = await aborted.promise;
    assert.equal(reason.code, 'ECONNRESET');
    await stopped.promise;
    const before = sent;
    await sleep(50);
    assert.equal(sent, before, 'the generator is not pulled any more');
    assert.equal((await get(port, '/other')).text, 'still here');
  });
});

test('the client leaving while JS works on the answer or reads the body: both hear it', { timeout: 20000 }, async () => {
  const pendingAbort = deferred();
  const bodyError = deferred();
  const arrived = deferred();
  const uploading = deferred();
  const handler = async (r) => {
    if (r.url === '/wait') {
      arrived.resolve();
      await new Promise((resolve) => r.signal.addEventListener('abort', resolve));
      pendingAbort.resolve(r.aborted);
      return { body: 'too late' };
    }
    try {
      const text = r.text();
      uploading.resolve();
      await text;
    } catch (err) {
      bodyError.resolve(err);
    }
    return { body: 'x' };
  };
  await withEngine({ handler }, async (port) => {
    const a = new Client(port);
    a.send(req('/wait'));
    await arrived.promise;
    a.sock.resetAndDestroy(); // a FIN alone may be a client waiting half-closed
    assert.equal(await pendingAbort.promise, true);
    const b = new Client(port);
    b.send('POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\npartial');
    await uploading.promise;
    b.sock.resetAndDestroy();
    const err = await bodyError.promise;
    assert.equal(err.code, 'ECONNRESET');
    assert.equal((await get(port, '/wait2')).status, 200);
  });
});

test('a broken chunked body mid-stream: JS hears an abort and the client gets 400', async () => {
  const bodyError = deferred();
  const arrived = deferred();
  const handler = async (r) => {
    arrived.resolve();
    try {
      await r.buffer();
    } catch (err) {
      bodyError.resolve(err.code);
    }
    return { body: 'unused' };
  };
  await withEngine({ handler }, async (port) => {
    const c = new Client(port);
    c.send('POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    await arrived.promise;
    c.send('zz\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n');
    await c.untilClosed(5000);
    assert.equal(await bodyError.promise, 'ECONNRESET');
    const rs = c.responses();
    assert.deepEqual(rs.map((r) => r.status), [400]);
  });
});

test('HEAD with a streamed body: the head only, and the connection stays in step', async () => {
  const handler = () => ({ body: Readable.from(['abc', 'def']) });
  await withEngine({ handler }, async (port) => {
    const c = new Client(port);
    c.send(req('/h', '', 'HEAD') + req('/g'), ['HEAD', 'GET']);
    await c.wait(() => dechunk(c.buf.subarray(c.buf.indexOf('\r\n\r\n') + 4)).complete, 5000, 'the GET after the HEAD');
    const text = c.buf.toString('latin1');
    const second = text.indexOf('HTTP/1.1', 1);
    assert.match(text.slice(0, second), /Transfer-Encoding: chunked\r\n\r\n$/, 'no body bytes after the HEAD response');
    assert.equal(dechunk(c.buf.subarray(second)).body.toString(), 'abcdef');
    c.close();
  });
});

test('response headers keep their case and may repeat (Set-Cookie twice, both forms)', async () => {
  const handler = (r) =>
    r.url === '/list'
      ? { headers: [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['X-MiXeD', 'v']], body: 'l' }
      : { headers: { 'Set-Cookie': ['a=1', 'b=2'], 'X-MiXeD': 7 }, body: 'r' };
  await withEngine({ handler }, async (port) => {
    for (const t of ['/list', '/record']) {
      const { text } = await raw(port, req(t, 'Connection: close\r\n'));
      assert.match(text, /\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n/);
      assert.match(text, /\r\nX-MiXeD: (v|7)\r\n/);
    }
  });
});

test('remoteAddress, remotePort and remoteFamily are the client socket', async () => {
  let seen;
  await withEngine({ handler: (r) => ((seen = [r.remoteAddress, r.remotePort, r.remoteFamily]), { body: 'ok' }) }, async (port) => {
    const c = new Client(port);
    await c.ready;
    c.send(req('/'));
    await c.until(1);
    assert.deepEqual(seen, ['127.0.0.1', c.sock.localPort, 'IPv4']);
    c.close();
  });
});

test('many clients streaming up and down at once on one I/O thread', { timeout: 30000 }, async () => {
  const handler = (r) => ({
    body: (async function* () {
      for await (const chunk of r.body) yield chunk;
    })(),
  });
  await withEngine({ handler, threads: 1 }, async (port) => {
    const n = 40;
    const bodies = Array.from({ length: n }, () => randomBytes(200000 + Math.floor(Math.random() * 100000)));
    const results = await Promise.all(
      bodies.map(async (body) => {
        const c = new Client(port);
        await c.ready;
        c.send('POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n');
        for (let off = 0; off < body.length; off += 50000) {
          const piece = body.subarray(off, off + 50000);
          c.sock.write(`${piece.length.toString(16)}\r\n`);
          c.sock.write(piece);
          c.sock.write('\r\n');
          await sleep(1);
        }
        c.sock.write('0\r\n\r\n');
        await c.wait(() => c.buf.length > body.length && dechunk(c.buf).complete, 20000, 'the echo');
        c.close();
        return dechunk(c.buf).body;
      }),
    );
    results.forEach((got, i) => assert.equal(sha(got), sha(bodies[i])));
  });
});

test('stopping the engine tells JS of the streams it was still writing', { timeout: 20000 }, async () => {
  const aborted = deferred();
  const started = deferred();
  async function* slow(signal) {
    started.resolve();
    while (!signal.aborted) {
      yield 'tick\n';
      await sleep(10);
    }
  }
  const engine = createEngine({ threads: 1, handler: (r) => (r.signal.addEventListener('abort', () => aborted.resolve(r.signal.reason.code)), { body: slow(r.signal) }) });
  const port = await engine.start();
  const hold = setInterval(() => {}, 1000);
  const c = new Client(port);
  c.send(req('/slow'));
  await started.promise;
  await engine.stop({ grace: 0 });
  assert.equal(await aborted.promise, 'ECONNRESET');
  await c.untilClosed(5000);
  clearInterval(hold);
});
