// wrk: one C thread with epoll, far cheaper per request than autocannon, for the workloads
// where autocannon's own CPU use caps what a fast server can show.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runPinned } from '../proc.js';
import { which } from '../contenders/which.js';
import type { LoadTool, Measurement } from './types.js';

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function duration(v: string): number {
  const m = v.match(/^([\d.]+)(us|ms|s|m|h)$/);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
}

export function parseWrk(out: string) {
  const pct = (p: number) => {
    const m = out.match(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm'));
    return m ? duration(m[1]!) : NaN;
  };
  const reqs = out.match(/(\d+) requests in ([\d.]+\w+), ([\d.]+)(\w+) read/);
  if (!reqs) throw new Error(`wrk printed no result:\n${out.slice(-800)}`);
  const errs = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const latMax = out.match(/Latency\s+\S+\s+\S+\s+(\S+)/);
  return {
    requests: Number(reqs[1]),
    durationSec: duration(reqs[2]!) / 1000,
    bytes: Number(reqs[3]) * (SIZE[reqs[4]!] ?? 1),
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? NaN),
    latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: latMax ? duration(latMax[1]!) : NaN },
    socketErrors: errs ? Number(errs[1]) + Number(errs[2]) + Number(errs[3]) : 0,
    errorKinds: (errs ? { connect: Number(errs[1]), read: Number(errs[2]), write: Number(errs[3]) } : {}) as Record<string, number>,
    timeouts: errs ? Number(errs[4]) : 0,
    non2xx: Number(out.match(/Non-2xx or 3xx responses:\s+(\d+)/)?.[1] ?? 0),
  };
}

// Each connection writes `depth` requests at once and reads their answers (wrk counts each).
// The batch is built once, in init: wrk runs request() before every write, on its one core.
const PIPELINE_SCRIPT = `
local batch
function init(args)
  local requests = {}
  for i = 1, tonumber(args[1]) do requests[i] = wrk.format() end
  batch = table.concat(requests)
end
function request() return batch end
`;

export const wrkTool: LoadTool = {
  name: 'wrk',
  unavailable: () => (which('wrk') ? null : 'not installed (scripts/install-bench-deps.sh)'),
  async run(spec, onChild): Promise<Measurement> {
    const args = ['-t1', '-c', String(spec.concurrency), '-d', `${spec.durationSec}s`, '--timeout', '10s', '--latency'];
    // wrk reconnects when the response says close: that is its non-keep-alive mode.
    if (!spec.keepAlive) args.push('-H', 'Connection: close');
    const depth = spec.pipeline ?? 1;
    const scriptDir = depth > 1 ? mkdtempSync(path.join(tmpdir(), 'bench-wrk-')) : '';
    let after: string[] = [];
    if (scriptDir) {
      const script = path.join(scriptDir, 'pipeline.lua');
      writeFileSync(script, PIPELINE_SCRIPT);
      args.push('-s', script);
      after = ['--', String(depth)];
    }
    let r;
    try {
      r = await runPinned(which('wrk')!, [...args, spec.url, ...after], spec, onChild);
    } finally {
      if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
    }
    const w = parseWrk(r.stdout);
    // Pipelined, wrk times a batch and prints percentiles that do not add up (a p99 of 0):
    // no latency is reported rather than a wrong one.
    if (depth > 1) w.latencyMs = { p50: NaN, p90: NaN, p99: NaN, max: NaN };
    return {
      rps: w.rps,
      bytesPerSec: w.bytes / w.durationSec,
      latencyMs: w.latencyMs,
      requests: w.requests,
      errors: w.socketErrors,
      errorKinds: w.errorKinds,
      non2xx: w.non2xx,
      timeouts: w.timeouts,
      wallSec: r.wallSec,
      loadCpu: r.cpuSec / r.wallSec,
    };
  },
};
