// HTTP/1.x connection behaviour: keep-alive, pipelining, Expect, limits and timeouts.
// Timeouts are configured short; tests wait for what the server does, never measure it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { makeSite, startServer, raw, parseResponses, Client, req, BIG } from '../testing/helpers.mjs';

let site;
before(() => {
  site = makeSite();
});
after(() => site.cleanup());

async function withServer(options, fn) {
  const { engine, port } = await startServer(site.root, options);
  try {
    await fn(port, engine);
  } finally {
    await engine.stop({ grace: 0 });
  }
}

test('keep-alive: requests one after another on one connection', () =>
  withServer({}, async (port) => {
    const c = new Client(port);
    await c.ready;
    c.send(req('/digits.txt'));
    await c.until(1);
    c.send(req('/style.css'));
    await c.until(2);
    const [a, b] = c.responses();
    assert.equal(a.text, '0123456789');
    assert.equal(b.text, 'body { color: red }\n');
    assert.equal(a.headers.connection, undefined);
    assert.equal(c.closed, false);
    c.close();
  }));

test('HTTP/1.0: closes by default, stays open with Connection: keep-alive', () =>
  withServer({}, async (port) => {
    const plain = await raw(port, 'GET /digits.txt HTTP/1.0\r\n\r\n', { keepOpen: true });
    assert.ok(plain.closed);
    assert.equal(parseResponses(plain.buf)[0].headers.connection, 'close');
    const c = new Client(port);
    c.send('GET /digits.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await c.until(1);
    c.send('GET /digits.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await c.until(2);
    assert.equal(c.responses()[1].headers.connection, 'keep-alive');
    assert.equal(c.closed, false);
    c.close();
  }));

test('Connection: close is answered and then the server closes', () =>
  withServer({}, async (port) => {
    const { buf, closed } = await raw(port, req('/digits.txt', 'Connection: close\r\n') + req('/style.css'), { keepOpen: true });
    const rs = parseResponses(buf);
    assert.equal(rs.length, 1);
    assert.equal(rs[0].headers.connection, 'close');
    assert.ok(closed);
  }));

test('pipelining: responses in request order, big files and HEAD included', () =>
  withServer({}, async (port) => {
    const targets = ['/digits.txt', '/big.bin', '/style.css', '/nope', '/big.bin', '/digits.txt'];
    const methods = targets.map((_, i) => (i === 2 ? 'HEAD' : 'GET'));
    const c = new Client(port);
    c.send(targets.map((t, i) => req(t, '', methods[i])).join(''), methods);
    await c.until(targets.length, 10000);
    const rs = c.responses();
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200, 404, 200, 200]);
    assert.equal(rs[0].text, '0123456789');
    assert.ok(rs[1].body.equals(BIG));
    assert.equal(rs[2].body.length, 0);
    assert.ok(rs[4].body.equals(BIG));
    assert.equal(rs[5].text, '0123456789');
    c.close();
  }));

test('pipelining: 100 requests in one write', () =>
  withServer({}, async (port) => {
    const c = new Client(port);
    c.send(Array.from({ length: 100 }, (_, i) => req(i % 2 ? '/digits.txt' : '/style.css')).join(''));
    await c.until(100);
    const rs = c.responses();
    assert.equal(rs.length, 100);
    rs.forEach((r, i) => assert.equal(r.text, i % 2 ? '0123456789' : 'body { color: red }\n'));
    c.close();
  }));

test('Expect: 100-continue gets 100 before the body is sent', () =>
  withServer({}, async (port) => {
    const c = new Client(port);
    c.send('POST /index.html HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await c.wait(() => c.buf.toString('latin1').startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 5000, '100 Continue');
    c.send('hello');
    await c.until(1);
    assert.equal(c.responses().at(-1).status, 405);
    c.close();
  }));

test('an unknown expectation: 417', () =>
  withServer({}, async (port) => {
    const { buf } = await raw(port, req('/digits.txt', 'Expect: teapot\r\n'), { keepOpen: true });
    assert.equal(parseResponses(buf)[0].status, 417);
  }));

test('414 for a request line over maxRequestLine', () =>
  withServer({ maxRequestLine: 256 }, async (port) => {
    const { buf, closed } = await raw(port, req('/' + 'a'.repeat(300)), { keepOpen: true });
    assert.equal(parseResponses(buf)[0].status, 414);
    assert.ok(closed);
    // Also when the line has not ended yet.
    const partial = await raw(port, 'GET /' + 'a'.repeat(300), { keepOpen: true });
    assert.equal(parseResponses(partial.buf)[0].status, 414);
  }));

test('431 for a header block over maxHeaderSize or more fields than maxHeaders', () =>
  withServer({ maxHeaderSize: 1024, maxHeaders: 10 }, async (port) => {
    const big = await raw(port, req('/', `X-Big: ${'b'.repeat(2000)}\r\n`), { keepOpen: true });
    assert.equal(parseResponses(big.buf)[0].status, 431);
    const many = await raw(port, req('/', Array.from({ length: 11 }, (_, i) => `X-${i}: 1\r\n`).join('')), { keepOpen: true });
    assert.equal(parseResponses(many.buf)[0].status, 431);
    const ok = await raw(port, req('/', Array.from({ length: 8 }, (_, i) => `X-${i}: 1\r\n`).join('') + 'Connection: close\r\n'));
    assert.equal(parseResponses(ok.buf)[0].status, 200);
  }));

test('413 for a body over maxBodySize, by Content-Length or by chunks', () =>
  withServer({ maxBodySize: 100 }, async (port) => {
    const cl = await raw(port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n', { keepOpen: true });
    assert.equal(parseResponses(cl.buf)[0].status, 413);
    const chunk = 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n' + 'a'.repeat(64) + '\r\n40\r\n';
    const ch = await raw(port, chunk, { keepOpen: true });
    assert.equal(parseResponses(ch.buf)[0].status, 413);
  }));

test('header timeout (slowloris): 408 and close', () =>
  withServer({ headerTimeout: 200 }, async (port) => {
    const c = new Client(port);
    c.send('GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ');
    await c.untilClosed(10000);
    const rs = c.responses();
    assert.equal(rs.length, 1);
    assert.equal(rs[0].status, 408);
  }));

test('body timeout: a stalled body gets 408 and close', () =>
  withServer({ bodyTimeout: 200 }, async (port) => {
    const c = new Client(port);
    c.send('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc');
    await c.untilClosed(10000);
    assert.equal(c.responses()[0].status, 408);
  }));

test('idle keep-alive timeout: closed quietly after the response', () =>
  withServer({ idleTimeout: 200 }, async (port) => {
    const c = new Client(port);
    c.send(req('/digits.txt'));
    await c.untilClosed(10000);
    assert.deepEqual(c.responses().map((r) => r.status), [200]);
  }));

test('a connection that sends nothing is closed after the header timeout, without a response', () =>
  withServer({ headerTimeout: 200 }, async (port) => {
    const c = new Client(port);
    await c.untilClosed(10000);
    assert.equal(c.buf.length, 0);
  }));

test('send timeout: a client that stops reading is closed', () =>
  withServer({ sendTimeout: 300 }, async (port) => {
    const c = new Client(port);
    await c.ready;
    c.sock.pause();
    const n = 60; // 18 MB: more than the socket buffers hold
    c.send(Array.from({ length: n }, () => req('/big.bin')).join(''));
    // Only after the server had every chance to time out does the client read again.
    await new Promise((r) => setTimeout(r, 1500));
    c.sock.resume();
    await c.untilClosed(20000);
    assert.ok(c.buf.length < n * BIG.length, 'the server kept sending to a client that did not read');
  }));

test('maxRequestsPerConnection: the last allowed response says close', () =>
  withServer({ maxRequestsPerConnection: 3 }, async (port) => {
    const { buf, closed } = await raw(port, Array.from({ length: 5 }, () => req('/digits.txt')).join(''), { keepOpen: true });
    const rs = parseResponses(buf);
    assert.equal(rs.length, 3);
    assert.equal(rs[2].headers.connection, 'close');
    assert.ok(closed);
  }));

test('maxConnections: a client past the limit waits in the backlog, then is served', () =>
  withServer({ maxConnections: 2, threads: 1 }, async (port) => {
    const a = new Client(port);
    const b = new Client(port);
    a.send(req('/digits.txt'));
    b.send(req('/digits.txt'));
    await a.until(1);
    await b.until(1);
    const c = new Client(port);
    c.send(req('/digits.txt'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(c.buf.length, 0, 'the third client was served while two were open');
    a.close();
    await c.until(1);
    assert.equal(c.responses()[0].status, 200);
    b.close();
    c.close();
  }));

test('a short first packet is kept while another connection gives its input buffer back', () =>
  withServer({ threads: 1 }, async (port) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    sock.on('data', (d) => chunks.push(d));
    const closed = new Promise((resolve) => sock.on('close', resolve));
    await new Promise((resolve) => sock.on('connect', resolve));
    sock.write('GET /digits'); // shorter than a string's inline buffer: no spare taken yet
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Another connection's request ends and its input buffer becomes the thread's spare.
    assert.match((await raw(port, req('/index.html', 'Connection: close\r\n'))).text, /^HTTP\/1\.1 200/);
    sock.end('.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    await closed;
    const text = Buffer.concat(chunks).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.ok(text.endsWith('0123456789'));
  }));
