// What the access log costs: the same engine (one I/O thread) with the log off and on, side
// by side, under `ab -k` on a 1 KiB file: requests/s, this process's CPU per request, and with
// the log on, how many JS calls carried the entries.
//   node bench/access-log.mjs [requests=100000] [concurrency=50] [rounds=2]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serveStatic } from '../dist/index.js';

const [requests, concurrency, rounds] = [100000, 50, 2].map((d, i) => Number(process.argv[2 + i] ?? d));
const root = mkdtempSync(path.join(tmpdir(), 'kevent-access-bench-'));
writeFileSync(path.join(root, '1k.txt'), 'x'.repeat(1024));

// ab runs as a child, so this thread stays free to take the log batches meanwhile.
function ab(port) {
  return new Promise((resolve) => {
    const child = spawn('ab', ['-q', '-k', '-n', String(requests), '-c', String(concurrency), `http://127.0.0.1:${port}/1k.txt`]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', () => resolve({
      rps: Number(/Requests per second:\s+([\d.]+)/.exec(out)?.[1]),
      failed: Number(/Failed requests:\s+(\d+)/.exec(out)?.[1]),
    }));
  });
}

const results = [];
for (let round = 0; round < rounds; round++) {
  for (const log of [false, true]) {
    let entries = 0;
    let calls = 0;
    const engine = serveStatic(root, {
      threads: 1,
      accessLog: log ? (batch) => { calls++; entries += batch.length; } : undefined,
    });
    const port = await engine.start();
    const cpu0 = process.cpuUsage();
    const { rps, failed } = await ab(port);
    await new Promise((r) => setTimeout(r, 200)); // the last batches
    // CPU of this process (I/O thread and JS thread) per request: steadier than rps on a shared machine.
    const cpu = process.cpuUsage(cpu0);
    const cpuNsPerRequest = Math.round(((cpu.user + cpu.system) * 1000) / requests);
    const dropped = engine.stats()[0].accessLogDropped;
    await engine.stop({ grace: 0 });
    results.push({ log, rps, cpuNsPerRequest, failed, entries, calls, entriesPerCall: calls ? Math.round(entries / calls) : 0, dropped });
  }
}
rmSync(root, { recursive: true, force: true });
console.log(JSON.stringify({ requests, concurrency, results }, null, 1));
