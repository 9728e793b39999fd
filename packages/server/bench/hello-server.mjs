// "hello" from JS, for bench/compare-hello.sh: `kevent PORT` (the engine's JS handler, one
// I/O thread, a new response object per request as node:http's handler writes its head per
// request), `kevent-frozen PORT` (one frozen response object, serialised once) or
// `node PORT` (node:http).
import http from 'node:http';
import { createEngine } from '../dist/index.js';

const [kind, port] = [process.argv[2], Number(process.argv[3])];
const hello = Object.freeze({ headers: Object.freeze({ 'Content-Type': 'text/plain' }), body: 'hello' });
if (kind === 'kevent' || kind === 'kevent-frozen') {
  const handler = kind === 'kevent' ? () => ({ headers: { 'Content-Type': 'text/plain' }, body: 'hello' }) : () => hello;
  const engine = createEngine({ port, threads: 1, handler });
  await engine.start();
  setInterval(() => {}, 1 << 30);
} else {
  http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('hello');
  }).listen(port, '127.0.0.1', 4096);
}
