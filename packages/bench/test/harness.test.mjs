// Smoke test of the bench harness: a real --quick run with tiny loads against every contender
// installed here (node:http always; nginx/lighttpd when scripts/install-bench-deps.sh ran).
// It asserts the harness starts and stops each of them by pid and writes its files; it
// asserts nothing about speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const cli = path.join(repoRoot, 'packages', 'bench', 'dist', 'cli.js');

function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** Runs the CLI; `onOutput(text, child)` sees the output so far as it grows. */
function runCli(args, env, onOutput = () => {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const add = (d) => {
      out += d;
      onOutput(out, child);
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const timer = setTimeout(() => child.kill('SIGINT'), 110_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test('--quick starts and stops every installed contender and writes the report, JSON and charts', { timeout: 120_000 }, async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'bench-test-'));
  try {
    const { code, out: log } = await runCli(['--quick', '--out', out]);
    assert.equal(code, 0, log);

    const files = readdirSync(out);
    const json = files.find((f) => f.endsWith('.json'));
    assert.ok(json, `no JSON in ${files}`);
    const r = JSON.parse(readFileSync(path.join(out, json), 'utf8'));
    const byName = Object.fromEntries(r.contenders.map((c) => [c.name, c]));

    // The project's own servers are built by the test command, node:http always exists.
    for (const name of ['kevent-serve', 'kevent-js', 'kevent-hello', 'node-http-static', 'node-http-hello']) assert.equal(byName[name]?.status, 'ran', `${name}: ${byName[name]?.reason}`);
    for (const c of r.contenders) {
      if (c.status === 'ran') {
        assert.ok(c.pids.length > 0, `${c.name} has no pids`);
        assert.deepEqual(c.leftoverPids, [], `${c.name} left pids`);
        for (const pid of c.pids) assert.equal(alive(pid), false, `${c.name} pid ${pid} still alive`);
      } else {
        assert.match(c.reason, /not (installed|available)/, `${c.name}: ${c.reason}`);
      }
    }

    // Every running contender was measured in at least one workload of its route.
    for (const c of r.contenders.filter((c) => c.status === 'ran')) {
      const cells = r.workloads.flatMap((w) => w.cells).filter((cell) => cell.contender === c.name);
      assert.ok(cells.some((cell) => cell.samples.length > 0 && cell.samples[0].requests > 0), `${c.name} never measured: ${JSON.stringify(cells.map((x) => x.error))}`);
    }
    // The hello route compares per core with node:http hello; each server's own rate per core is shown.
    const hello = r.workloads.find((w) => w.workload.route === 'hello' && w.cells.some((c) => c.summary));
    const keventHello = hello?.cells.find((c) => c.contender === 'kevent-hello');
    assert.ok(keventHello?.summary?.rpsPerCore > 0, 'no req/s per core for kevent-hello');
    assert.ok(keventHello.perCoreVsPeer > 0, 'no per-core ratio to node:http hello');
    // The pipelined hello workload: wrk writes four requests at a time and every answer counts
    // (skipped, and said so, where wrk is not installed).
    const piped = r.workloads.find((w) => w.workload.id === 'wrk-hello-ka-c20-p4');
    assert.ok(piped, 'no pipelined hello workload in the quick run');
    if (!piped.skipped) {
      const cell = piped.cells.find((c) => c.contender === 'kevent-hello');
      assert.ok(cell?.samples[0]?.requests > 0, `pipelined hello not measured: ${cell?.error}`);
      assert.equal(cell.samples[0].non2xx, 0);
      assert.equal(cell.samples[0].latencyMs.p99, null, 'no latency is claimed for pipelined batches');
    }

    // The two report sections ran with every row they promise (the values are not judged).
    const section = (id) => r.sections.find((s) => s.id === id);
    const herd = section('thundering-herd');
    assert.ok(herd?.data, `thundering-herd: ${herd?.skipped ?? herd?.error}`);
    for (const load of ['low', 'saturating']) {
      for (const threads of [1, 2, 4, 8]) {
        for (const mode of ['wake-one', 'wake-all', 'reuseport', 'accept']) {
          const row = herd.data.rows.find((x) => x.load === load && x.threads === threads && x.mode === mode && x.stalled === 0);
          assert.ok(row, `no herd row ${load} ${mode} ${threads}`);
          assert.equal(row.failed, false, `${load} ${mode} ${threads}: accept failed`);
          assert.equal(row.perThread.length, threads);
          assert.ok(row.accepted > 0 && row.accepted >= row.connected, `${load} ${mode} ${threads}: ${row.accepted} of ${row.connected} accepted`);
        }
      }
    }
    for (const mode of ['wake-one', 'reuseport']) assert.ok(herd.data.rows.some((x) => x.mode === mode && x.stalled === 1), `no stalled ${mode} row`);
    const events = section('events-per-sec');
    assert.ok(events?.data, `events-per-sec: ${events?.skipped ?? events?.error}`);
    for (const transport of ['tcp', 'unix', 'pipe']) {
      for (const mechanism of ['epoll', 'kevent', 'epoll-et', 'kevent-et', 'blocking']) {
        const row = events.data.rows.find((x) => x.transport === transport && x.mechanism === mechanism);
        assert.ok(row?.eventsPerSec > 0, `no events row ${transport} ${mechanism}`);
      }
    }

    const report = readFileSync(path.join(out, json.replace(/\.json$/, '.md')), 'utf8');
    assert.match(report, /^# HTTP servers$/m);
    assert.match(report, /^## Thundering herd/m);
    assert.match(report, /^\| low \| wake-all \| 8 \|/m);
    assert.match(report, /^## Events per second/m);
    assert.match(report, /^\| pipe \| kevent-et \|/m);
    // The terminal output carries the same two tables.
    assert.match(log, /^Thundering herd/m);
    assert.match(log, /^\| saturating \| accept \| 8 \|/m);
    assert.match(log, /^\| tcp \| blocking \|/m);
    assert.match(report, /node-http-static/);
    for (const chart of ['throughput', 'latency']) {
      const svg = readFileSync(path.join(out, json.replace(/\.json$/, `-${chart}.svg`)), 'utf8');
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /node-http-static/);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('SIGINT in the middle of a run stops every server by pid and still writes partial results', { timeout: 60_000 }, async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'bench-test-'));
  try {
    let sent = false;
    // The first finished measurement prints "[1/N] ...: <n> req/s": servers are all up by then.
    const { code, out: log } = await runCli(['--quick', '--out', out], {}, (text, child) => {
      if (!sent && /^\[1\/\d+\].*req\/s/m.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    assert.ok(sent, log);
    assert.equal(code, 130, log);
    const json = readdirSync(out).find((f) => f.endsWith('.json'));
    const r = JSON.parse(readFileSync(path.join(out, json), 'utf8'));
    assert.equal(r.interrupted, true);
    const ran = r.contenders.filter((c) => c.status === 'ran');
    assert.ok(ran.length >= 2);
    for (const c of ran) for (const pid of c.pids) assert.equal(alive(pid), false, `${c.name} pid ${pid} still alive`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
