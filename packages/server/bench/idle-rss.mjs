// RSS per idle keep-alive connection: the engine (2 I/O threads) in this process, a child
// opening N connections that each make one request and then stay open. Prints JSON.
//   node --expose-gc bench/idle-rss.mjs [connections=8000]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { serveStatic } from '../dist/index.js';

const n = Number(process.argv[2] ?? 8000);
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const root = new URL('../../../examples/site', import.meta.url).pathname;
const engine = serveStatic(root, { threads: 2, idleTimeout: 600000 });
const port = await engine.start();
await fetch(`http://127.0.0.1:${port}/`); // first-use allocations out of the way
globalThis.gc?.();
const before = rssKiB();
const client = spawn(process.execPath, ['-e', `
  const net = require('net'); let done = 0;
  for (let i = 0; i < ${n}; i++) {
    const s = net.connect(${port}, '127.0.0.1'); let got = false;
    s.on('connect', () => s.write('GET /index.html HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'));
    s.on('data', () => { if (!got && (got = true) && ++done === ${n}) console.log('ready'); });
  }
  setTimeout(() => process.exit(1), 60000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
client.stdout.once('data', async () => {
  await new Promise((r) => setTimeout(r, 500));
  const after = rssKiB();
  const held = engine.stats().reduce((a, s) => a + s.connections, 0);
  console.log(JSON.stringify({ connections: held, rssBeforeKiB: before, rssAfterKiB: after, bytesPerConnection: Math.round(((after - before) * 1024) / held) }));
  client.kill();
  await engine.stop({ grace: 0 });
  process.exit(0);
});
