// The JS-driven static server over real sockets: files byte-exact (also through aio for a
// 10 MiB file), HEAD, 404/405/301/400, keep-alive, pipelining, traversal attempts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k from '@kevent/native';
import { startStaticServer } from '../dist/server.js';

let root;
let server;
const big = randomBytes(10 * 1024 * 1024);

before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'kevent-js-'));
  writeFileSync(path.join(root, 'index.html'), '<h1>home</h1>\n');
  writeFileSync(path.join(root, 'a.txt'), 'alpha\n');
  writeFileSync(path.join(root, 'big.bin'), big);
  writeFileSync(path.join(root, '.secret'), 'no');
  mkdirSync(path.join(root, 'docs'));
  writeFileSync(path.join(root, 'docs', 'index.html'), 'docs\n');
  writeFileSync(path.join(path.dirname(root), 'outside.txt'), 'outside\n');
  symlinkSync(path.join(path.dirname(root), 'outside.txt'), path.join(root, 'escape.txt'));
  server = startStaticServer({ root });
});

after(() => {
  server.close();
  rmSync(root, { recursive: true });
});

/** Sends raw bytes on one connection and collects `count` responses (head + body). */
async function exchange(raw, count = 1) {
  const socket = net.connect(server.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(raw);
  const responses = [];
  let data = Buffer.alloc(0);
  for await (const chunk of socket) {
    data = Buffer.concat([data, chunk]);
    for (;;) {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) break;
      const headText = data.toString('latin1', 0, end);
      const status = Number(headText.split(' ')[1]);
      const headers = Object.fromEntries(headText.split('\r\n').slice(1).map((l) => [l.split(':')[0].toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const isHead = raw.split('\r\n\r\n')[responses.length]?.startsWith('HEAD');
      const length = isHead ? 0 : Number(headers['content-length'] ?? 0);
      if (data.length < end + 4 + length) break;
      responses.push({ status, headers, body: data.subarray(end + 4, end + 4 + length) });
      data = data.subarray(end + 4 + length);
    }
    if (responses.length >= count) break;
  }
  socket.destroy();
  return responses;
}

const get = (p, extra = '') => `GET ${p} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

test('GET serves a file with its type and length', async () => {
  const [r] = await exchange(get('/a.txt'));
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(String(r.body), 'alpha\n');
});

test('a 10 MiB file arrives byte-exact through aio_sendfile_path', async () => {
  const [r] = await exchange(get('/big.bin'));
  assert.equal(r.status, 200);
  assert.equal(Number(r.headers['content-length']), big.length);
  assert.equal(createHash('sha256').update(r.body).digest('hex'), createHash('sha256').update(big).digest('hex'));
});

test('HEAD has the headers and no body; / and /docs/ serve index.html; /docs redirects', async () => {
  const [h] = await exchange(`HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], '6');
  const [home] = await exchange(get('/'));
  assert.equal(String(home.body), '<h1>home</h1>\n');
  const [docs] = await exchange(get('/docs/'));
  assert.equal(String(docs.body), 'docs\n');
  const [redirect] = await exchange(get('/docs?x=1'));
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, '/docs/');
});

test('keep-alive serves several requests on one connection, pipelined ones in order', async () => {
  const rs = await exchange(get('/a.txt') + get('/docs/') + get('/missing') + get('/a.txt', 'Connection: close\r\n'), 4);
  assert.deepEqual(rs.map((r) => r.status), [200, 200, 404, 200]);
  assert.deepEqual(rs.map((r) => String(r.body)), ['alpha\n', 'docs\n', '404 Not Found\n', 'alpha\n']);
  assert.equal(rs[3].headers.connection, 'close');
});

test('errors: 404, 405 with Allow, 400 for malformed requests', async () => {
  assert.equal((await exchange(get('/nope')))[0].status, 404);
  const [post] = await exchange('POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  assert.equal((await exchange('GARBAGE\r\n\r\n'))[0].status, 400);
  assert.equal((await exchange('GET /a.txt HTTP/1.1\r\nHost : x\r\n\r\n'))[0].status, 400);
});

test('traversal and hidden files are refused; a symlink out of the root is not followed', async () => {
  for (const target of ['/../outside.txt', '/%2e%2e/outside.txt', '/..%2foutside.txt', '/%252e%252e/outside.txt',
    '/a.txt%00', '/..\\outside.txt', '/.secret', '/escape.txt']) {
    const [r] = await exchange(get(target));
    assert.ok([400, 404].includes(r.status), `${target} -> ${r.status}`);
    assert.notEqual(String(r.body), 'outside\n');
  }
});

test('a client that pipelines 60000 requests and reads late gets every response, in order', async () => {
  // Raw non-blocking calls, so this client reads nothing until the server had to wait for a
  // KEVENT_SOCKET_SEND event (a Node socket in this process would drain the buffers).
  const fd = k.connect('127.0.0.1', server.port);
  const count = 60000;
  const isFile = (i) => i % 1000 === 999; // mostly writev'd 404s, now and then an aio file
  let raw = '';
  for (let i = 0; i < count; i++) raw += get(isFile(i) ? '/a.txt' : `/missing-${i}`);
  const request = Buffer.from(raw);
  const waitsBefore = server.stats().sendWaits;
  for (let off = 0, spins = 0; off < request.length; spins++) {
    assert.ok(spins < 20000, 'request written');
    const n = k.send(fd, request.subarray(off));
    if (n === null) await sleep(1);
    else off += n;
  }
  for (let spins = 0; server.stats().sendWaits === waitsBefore; spins++) {
    assert.ok(spins < 5000, 'the server waited for SEND readiness');
    await sleep(1);
  }
  const statuses = [];
  const buf = Buffer.alloc(256 * 1024);
  let carry = '';
  for (let spins = 0; statuses.length < count; spins++) {
    assert.ok(spins < 100000, 'all responses read');
    const n = k.recv(fd, buf);
    if (n === null) { await sleep(1); continue; }
    assert.notEqual(n, 0, 'the server closed early');
    const text = carry + buf.toString('latin1', 0, n);
    for (const m of text.matchAll(/HTTP\/1\.1 (\d{3}) /g)) statuses.push(Number(m[1]));
    carry = text.slice(-12).replace(/^.*HTTP\/1\.1 \d{3} /s, '');
  }
  k.close(fd);
  assert.equal(statuses.length, count);
  assert.ok(statuses.every((s, i) => s === (isFile(i) ? 200 : 404)), 'responses in request order');
});

test('closing after Connection: close lingers: what the client still sends is read, not reset', async () => {
  // A half-open client gets the whole response and the server's FIN, then keeps writing (as a
  // client does that sent its next request before it saw the close). A server that closed
  // outright answers those bytes with a reset; a lingering one reads and discards them.
  const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
  await once(socket, 'connect');
  const errors = [];
  socket.on('error', (error) => errors.push(error.code));
  let bytes = 0;
  socket.on('data', (chunk) => { bytes += chunk.length; });
  socket.write(get('/a.txt', 'Connection: close\r\n'));
  await once(socket, 'end');
  assert.ok(bytes > 6, 'the response arrived before the FIN');
  for (let i = 0; i < 5; i++) {
    socket.write(get('/a.txt'));
    await sleep(20);
  }
  assert.deepEqual(errors, [], 'no reset while the client still writes');
  socket.end();
  await once(socket, 'close');
  assert.deepEqual(errors, []);
});
