// The events bench binary (built by install) runs every row and counts events in each. No
// timing is asserted: the numbers belong to docs/BENCHMARKS.md, not to a test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const binary = fileURLToPath(new URL('../build/Release/events_bench', import.meta.url));
const jsBench = fileURLToPath(new URL('../bench/events-bench.mjs', import.meta.url));
const TRANSPORTS = ['tcp', 'unix', 'pipe'];
const MECHANISMS = ['epoll', 'kevent', 'epoll-et', 'kevent-et', 'blocking'];

test('events_bench produces a positive count for every transport and mechanism', async () => {
  const { stdout } = await promisify(execFile)(
    binary,
    ['--json', '--conns', '100', '--seconds', '0.2', '--warmup', '0.05', '--rounds', '1'],
    { timeout: 60_000 },
  );
  const { rows } = JSON.parse(stdout);
  assert.equal(rows.length, TRANSPORTS.length * MECHANISMS.length);
  for (const transport of TRANSPORTS) {
    for (const mechanism of MECHANISMS) {
      const row = rows.find((r) => r.transport === transport && r.mechanism === mechanism);
      assert.ok(row, `missing row ${transport} ${mechanism}`);
      assert.ok(row.eventsPerSec > 0, `${transport} ${mechanism} counted no events`);
      assert.ok(row.writesPerSec > 0, `${transport} ${mechanism} wrote nothing`);
    }
  }
  // kevent rows carry their ratio to the epoll row of the same trigger mode.
  for (const r of rows.filter((x) => x.mechanism.startsWith('kevent'))) assert.equal(typeof r.vsEpoll, 'number');
});

test('events_bench refuses an unknown row name', async () => {
  await assert.rejects(promisify(execFile)(binary, ['--rows', 'select']), (err) => err.code === 2);
});

test('the JS bench reads through getEvents and the ring, fed by the writer-only binary', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [jsBench, '--json', '--conns', '50', '--seconds', '0.1', '--warmup', '0.05', '--rounds', '1', '--transports', 'pipe'],
    { timeout: 60_000 },
  );
  const { js } = JSON.parse(stdout);
  assert.deepEqual(js.map((r) => r.mechanism).sort(), ['js-kevent', 'js-kevent-et', 'js-ring', 'js-ring-et']);
  for (const r of js) {
    assert.ok(r.eventsPerSec > 0, `${r.mechanism} counted no events`);
    assert.ok(r.writesPerSec > 0, `${r.mechanism}: the writer-only binary wrote nothing`);
  }
});
