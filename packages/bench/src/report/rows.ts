// One table, two renderings (terminal and markdown): the columns live here.
import type { Cell, WorkloadResult } from '../results.js';
import { fmtMs, fmtPct, fmtRatio, fmtRps } from './format.js';

export const HEADERS = [
  'contender', 'req/s', 'spread', 'MiB/s', 'p50', 'p90', 'p99', 'max', 'errors', 'vs node', 'vs nginx', 'vs lighttpd',
  'server CPU', 'req/s per core', 'per core vs peer', 'load CPU',
];

export function rows(w: WorkloadResult): string[][] {
  return w.cells.map((c: Cell) => {
    const s = c.summary;
    if (!s) return [c.contender, c.error ? `failed: ${c.error.slice(0, 60)}` : 'no sample', ...HEADERS.slice(2).map(() => '')];
    const errors = s.errors + s.timeouts + s.non2xx;
    return [
      c.contender,
      fmtRps(s.rps),
      `±${fmtPct(s.spread / 2)}`,
      (s.bytesPerSec / 2 ** 20).toFixed(1),
      fmtMs(s.latencyMs.p50),
      fmtMs(s.latencyMs.p90),
      fmtMs(s.latencyMs.p99),
      fmtMs(s.latencyMs.max),
      errors ? `${errors}${s.timeouts ? ` (${s.timeouts} t/o)` : ''}` : '0',
      fmtRatio(c.vsNode),
      fmtRatio(c.vsNginx),
      fmtRatio(c.vsLighttpd),
      fmtPct(s.serverCpu),
      fmtRps(s.rpsPerCore),
      fmtRatio(c.perCoreVsPeer),
      fmtPct(s.loadCpu),
    ];
  });
}
