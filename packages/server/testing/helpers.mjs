// Not a test file: node --test runs every .mjs under test/, so the support code lives here.
// Shared by the server tests: a document root on disk, an engine on port 0, raw sockets.
import { before, after } from 'node:test';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { serveStatic } from '../dist/index.js';

export const BIG = randomBytes(300 * 1024); // above smallFileMax: goes by sendfile

// outside/secret.txt sits next to the root, for symlink and traversal escapes.
export function makeSite() {
  const base = mkdtempSync(path.join(tmpdir(), 'kevent-site-'));
  const root = path.join(base, 'root');
  mkdirSync(root);
  mkdirSync(path.join(base, 'outside'));
  writeFileSync(path.join(base, 'outside', 'secret.txt'), 'TOP SECRET\n');
  writeFileSync(path.join(root, 'index.html'), '<h1>home</h1>\n');
  writeFileSync(path.join(root, 'style.css'), 'body { color: red }\n');
  writeFileSync(path.join(root, 'data.json'), '{"a":1}\n');
  writeFileSync(path.join(root, 'blob.bin'), Buffer.from([0, 1, 2, 3]));
  writeFileSync(path.join(root, 'digits.txt'), '0123456789');
  writeFileSync(path.join(root, 'empty.txt'), '');
  writeFileSync(path.join(root, 'big.bin'), BIG);
  writeFileSync(path.join(root, 'a b.txt'), 'space\n');
  writeFileSync(path.join(root, 'caf\u00e9.txt'), 'utf8\n');
  writeFileSync(path.join(root, '.secret'), 'dot\n');
  mkdirSync(path.join(root, '.git'));
  writeFileSync(path.join(root, '.git', 'config'), 'git\n');
  mkdirSync(path.join(root, 'docs'));
  writeFileSync(path.join(root, 'docs', 'index.html'), '<h1>docs</h1>\n');
  mkdirSync(path.join(root, 'noindex'));
  writeFileSync(path.join(root, 'noindex', 'file.txt'), 'x\n');
  symlinkSync(path.join(base, 'outside', 'secret.txt'), path.join(root, 'escape.txt'));
  symlinkSync(path.join(base, 'outside'), path.join(root, 'outdir'));
  symlinkSync('index.html', path.join(root, 'inside-link.html'));
  return { base, root, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export async function startServer(root, options = {}) {
  const engine = serveStatic(root, { threads: 2, ...options });
  const port = await engine.start();
  return { engine, port };
}

// Sends `data` (string or Buffer, or an array written in turn) and collects everything until
// the server closes or `timeout` ms pass. Resolves { buf, text, closed }.
export function raw(port, data, { timeout = 3000, keepOpen = false } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    let closed = false;
    let reset = false;
    const timer = setTimeout(() => sock.destroy(), timeout);
    sock.on('connect', () => {
      for (const part of Array.isArray(data) ? data : [data]) sock.write(part);
      if (!keepOpen) sock.end();
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => {
      closed = true;
    });
    sock.on('error', (err) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err);
      reset = true;
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const buf = Buffer.concat(chunks);
      resolve({ buf, text: buf.toString('latin1'), closed, reset });
    });
  });
}

// Splits a byte stream into responses. `heads` lists the request methods in order, since a
// HEAD response carries a Content-Length without a body.
export function parseResponses(buf, methods = []) {
  const out = [];
  let pos = 0;
  let i = 0;
  while (pos < buf.length) {
    const end = buf.indexOf('\r\n\r\n', pos, 'latin1');
    if (end < 0) break;
    const lines = buf.subarray(pos, end).toString('latin1').split('\r\n');
    const [, status] = lines[0].split(' ');
    const headers = {};
    for (const line of lines.slice(1)) {
      const c = line.indexOf(':');
      headers[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
    }
    pos = end + 4;
    const code = Number(status);
    let length = 0;
    if (code >= 200 && code !== 204 && code !== 304 && methods[i] !== 'HEAD') length = Number(headers['content-length'] ?? 0);
    const body = buf.subarray(pos, pos + length);
    pos += length;
    out.push({ status: code, headers, body, text: body.toString('latin1') });
    if (code >= 200) i++;
  }
  return out;
}

export async function get(port, target, headers = {}, method = 'GET') {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: test', 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  const { buf } = await raw(port, lines.join('\r\n') + '\r\n\r\n');
  const [res] = parseResponses(buf, [method]);
  return res;
}

// A socket kept open across several writes; `until(n)` waits for n complete responses.
export class Client {
  constructor(port) {
    this.sock = net.connect(port, '127.0.0.1');
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.methods = [];
    this.waiters = new Set();
    this.sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.#wake();
    });
    this.sock.on('error', () => {});
    this.sock.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    this.ready = new Promise((resolve, reject) => {
      this.sock.once('connect', resolve);
      this.sock.once('error', reject);
    });
  }
  #wake() {
    for (const w of this.waiters) w();
  }
  send(text, methods = []) {
    this.methods.push(...methods);
    this.sock.write(text);
  }
  responses() {
    return parseResponses(this.buf, this.methods);
  }
  // Resolves when `check()` is true, or rejects after `timeout` ms (a bound, not an assertion).
  wait(check, timeout = 5000, what = 'condition') {
    return new Promise((resolve, reject) => {
      const done = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        reject(new Error(`timed out waiting for ${what}; got:\n${this.buf.toString('latin1').slice(0, 2000)}`));
      }, timeout);
      this.waiters.add(done);
      done();
    });
  }
  until(n, timeout) {
    return this.wait(() => this.responses().filter((r) => r.status >= 200).length >= n && this.#complete(), timeout, `${n} responses`);
  }
  untilClosed(timeout) {
    return this.wait(() => this.closed, timeout, 'close');
  }
  #complete() {
    // The last response's body is all there.
    const rs = this.responses();
    const last = rs[rs.length - 1];
    if (!last) return false;
    const len = Number(last.headers['content-length'] ?? 0);
    return last.body.length === len || last.status === 304 || this.methods[rs.length - 1] === 'HEAD';
  }
  close() {
    this.sock.destroy();
  }
}

export const req = (target, extra = '', method = 'GET') => `${method} ${target} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

// Registers before/after hooks that serve a fresh site for the whole test file.
export function useSiteServer(options = {}) {
  const env = {};
  before(async () => {
    env.site = makeSite();
    Object.assign(env, await startServer(env.site.root, options));
  });
  after(async () => {
    await env.engine.stop();
    env.site.cleanup();
  });
  return env;
}
