// "hello" from JS, for bench/compare-hello.sh: `kevent PORT` (the engine's JS handler, one
// I/O thread) or `node PORT` (node:http).
import http from 'node:http';
import { createEngine } from '../dist/index.js';

const [kind, port] = [process.argv[2], Number(process.argv[3])];
if (kind === 'kevent') {
  const engine = createEngine({ port, threads: 1, handler: () => ({ headers: { 'Content-Type': 'text/plain' }, body: 'hello' }) });
  await engine.start();
  setInterval(() => {}, 1 << 30);
} else {
  http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('hello');
  }).listen(port, '127.0.0.1', 4096);
}
