// RSS per idle keep-alive connection: the engine (2 I/O threads) in this process, a child
// opening N connections that each make one request and then stay open. Prints JSON.
//   node --expose-gc bench/idle-rss.mjs [connections=8000]
// Two figures: the whole process's RSS, which V8's heap moves by a few MiB either way (the
// garbage collector runs and returns pages on its own schedule), and the RSS of the malloc
// arenas the I/O threads allocate connections from, which only the engine moves.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { serveStatic } from '../dist/index.js';

const n = Number(process.argv[2] ?? 8000);
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
// glibc gives each thread that allocates an arena of its own, mapped at a 64 MiB boundary
// (HEAP_MAX_SIZE) and anonymous: the I/O threads' allocations land there, V8's heap never does.
function arenaRssKiB() {
  let total = 0;
  let arena = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (m) {
      arena = m[2] === '0' && m[3] === '' && BigInt('0x' + m[1]) % (64n << 20n) === 0n;
      continue;
    }
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (rss && arena) total += Number(rss[1]);
  }
  return total;
}
// After a collection V8 hands pages back a little later: measure once it has.
async function settle() {
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 500));
}
const root = new URL('../../../examples/site', import.meta.url).pathname;
const engine = serveStatic(root, { threads: 2, idleTimeout: 600000 });
const port = await engine.start();
await fetch(`http://127.0.0.1:${port}/`); // first-use allocations out of the way
await settle();
const before = rssKiB();
const arenasBefore = arenaRssKiB();
const client = spawn(process.execPath, ['-e', `
  const net = require('net'); let done = 0;
  for (let i = 0; i < ${n}; i++) {
    const s = net.connect(${port}, '127.0.0.1'); let got = false;
    s.on('connect', () => s.write('GET /index.html HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'));
    s.on('data', () => { if (!got && (got = true) && ++done === ${n}) console.log('ready'); });
  }
  setTimeout(() => process.exit(1), 60000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
client.stdout.once('data', async () => {
  await settle();
  const after = rssKiB();
  const arenasAfter = arenaRssKiB();
  const held = engine.stats().reduce((a, s) => a + s.connections, 0);
  const per = (kib) => Math.round((kib * 1024) / held);
  console.log(JSON.stringify({
    connections: held,
    rssBeforeKiB: before,
    rssAfterKiB: after,
    bytesPerConnection: per(after - before),
    arenaBytesPerConnection: per(arenasAfter - arenasBefore),
  }));
  client.kill();
  await engine.stop({ grace: 0 });
  process.exit(0);
});
