// ApacheBench: the seed's own benchmark (`ab -n N -c 8000`). It sends HTTP/1.0; -k adds
// "Connection: Keep-Alive". -r keeps it going on receive errors so failures are counted
// rather than aborting the run.
import { runPinned } from '../proc.js';
import { which } from '../contenders/which.js';
import type { LoadTool, Measurement } from './types.js';

export interface AbResult {
  rps: number;
  complete: number;
  failed: number;
  /** ab's breakdown of failed requests. */
  failedBy: Record<string, number>;
  non2xx: number;
  keepAliveRequests: number;
  timeTakenSec: number;
  transferKBps: number;
  /** Percentile (50, 66, ..., 100) → ms. */
  percentiles: Record<number, number>;
}

const num = (text: string, re: RegExp): number => {
  const m = text.match(re);
  return m ? Number(m[1]) : 0;
};

export function parseAb(out: string): AbResult {
  const percentiles: Record<number, number> = {};
  for (const m of out.matchAll(/^\s*(\d+)%\s+(\d+)/gm)) percentiles[Number(m[1])] = Number(m[2]);
  if (!/Requests per second:/.test(out)) throw new Error(`ab printed no result:\n${out.slice(-800)}`);
  return {
    rps: num(out, /Requests per second:\s+([\d.]+)/),
    complete: num(out, /Complete requests:\s+(\d+)/),
    failed: num(out, /Failed requests:\s+(\d+)/),
    failedBy: Object.fromEntries(
      [...(out.match(/\(Connect: \d+, Receive: \d+, Length: \d+, Exceptions: \d+\)/)?.[0] ?? '').matchAll(/(\w+): (\d+)/g)]
        .map((m) => [m[1]!.toLowerCase(), Number(m[2])]),
    ),
    non2xx: num(out, /Non-2xx responses:\s+(\d+)/),
    keepAliveRequests: num(out, /Keep-Alive requests:\s+(\d+)/),
    timeTakenSec: num(out, /Time taken for tests:\s+([\d.]+)/),
    transferKBps: num(out, /Transfer rate:\s+([\d.]+)/),
    percentiles,
  };
}

export const abTool: LoadTool = {
  name: 'ab',
  unavailable: () => (which('ab') ? null : 'not installed (apache2-utils; scripts/install-bench-deps.sh)'),
  async run(spec, onChild): Promise<Measurement> {
    const args = ['-n', String(Math.max(spec.requests, spec.concurrency)), '-c', String(spec.concurrency), '-r', '-s', '30', '-q'];
    if (spec.keepAlive) args.push('-k');
    const r = await runPinned(which('ab')!, [...args, spec.url], spec, onChild);
    const ab = parseAb(r.stdout);
    return {
      rps: ab.rps,
      bytesPerSec: ab.transferKBps * 1024,
      latencyMs: { p50: ab.percentiles[50] ?? NaN, p90: ab.percentiles[90] ?? NaN, p99: ab.percentiles[99] ?? NaN, max: ab.percentiles[100] ?? NaN },
      requests: ab.complete,
      errors: ab.failed,
      errorKinds: ab.failedBy,
      non2xx: ab.non2xx,
      timeouts: 0,
      wallSec: r.wallSec,
      loadCpu: r.cpuSec / r.wallSec,
    };
  },
};
