// The markdown report: what ran, on what, how, and the numbers with their caveats.
import { machineLine } from '../machine.js';
import type { BenchResult } from '../results.js';
import { HEADERS, rows } from './rows.js';

export interface ChartNames {
  throughput: string;
  latency: string;
}

export function busyNote(r: BenchResult): string | null {
  const load = r.machine.loadAvg[0] ?? 0;
  return load >= 0.5
    ? `The machine was shared and busy (1-minute load average ${load} at start, on ${r.machine.cpus} cores): absolute numbers are low and noisy; the ratios, taken within the same rounds, are the better guide.`
    : null;
}

/** Numbers right-aligned after the first column, unless `numeric` is false. */
const table = (head: string[], body: string[][], numeric = true) =>
  [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 || !numeric ? '---' : '---:')).join(' | ')} |`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');

export function markdownReport(r: BenchResult, charts: ChartNames, heading = '#'): string {
  const h2 = `${heading}#`;
  const h3 = `${heading}##`;
  const out: string[] = [];
  out.push(`${heading} HTTP servers`, '', `${r.mode === 'full' ? 'Full' : 'Quick'} run ${r.runId}: every contender side by side in one run.`, '');
  out.push(`Command: \`${r.command}\``, '');
  out.push(`Machine: ${machineLine(r.machine)}.`, '');
  const busy = busyNote(r);
  if (busy) out.push(busy, '');
  if (r.interrupted) out.push('**This run was interrupted (SIGINT): the results are partial.**', '');
  out.push(
    `Method: every contender runs at the same time, pinned with taskset to CPU ${r.machine.serverCpus} with ${r.machine.threads} worker(s)/thread(s); ` +
      `the load generator is pinned to CPU ${r.machine.loadCpus}; both get RLIMIT_NOFILE ${r.machine.fdHard}. ` +
      `Each workload gets ${r.warmupSec > 0 ? `a ${r.warmupSec} s warm-up per contender, then ` : ''}${r.rounds} round(s); in a round every contender is measured once, in rotating order. ` +
      'Tables give the median over rounds; spread is ±half the min–max range of req/s; "vs node", "vs nginx" and "vs lighttpd" are the median of per-round ratios of req/s ' +
      '(node:http static for files, node:http hello for the hello route). "req/s per core" is req/s divided by the server\'s CPU use in cores; ' +
      '"per core vs peer" is the median of its per-round ratios to lighttpd (files) or node:http hello (hello route), which still compares the servers when the load generator sets the rate. Errors add connection errors, timeouts, non-2xx and ab\'s failed requests over all rounds. ' +
      'CPU columns are cores used (100% = one core busy) during the measurement; a load generator near 100% means the number is its limit, not the server\'s.',
    '',
  );
  out.push(`${h2} Contenders`, '');
  out.push(table(['contender', 'status', 'what it is'], r.contenders.map((c) => [c.name, c.status === 'ran' ? 'ran' : c.reason ?? c.status, c.description]), false), '');
  out.push(`${h2} Results`, '', `Charts: [throughput](${charts.throughput}), [latency percentiles](${charts.latency}).`, '');
  for (const w of r.workloads) {
    out.push(`${h3} ${w.workload.title}`, '', `\`${w.workload.id}\`${w.workload.note ? `: ${w.workload.note}` : ''}`, '');
    if (w.skipped) {
      out.push(`Skipped: ${w.skipped}.`, '');
      continue;
    }
    out.push(table(HEADERS, rows(w)), '');
    const notes = [...w.kernelCaps.map((c) => `kernel: ${c}`), ...w.cells.flatMap((c) => c.caps.map((cap) => `${c.contender}: ${cap}`)), ...w.cells.filter((c) => c.error).map((c) => `${c.contender}: ${c.error}`)];
    if (notes.length) out.push(...notes.map((n) => `- ${n}`), '');
  }
  for (const s of r.sections) {
    out.push(`${h2} ${s.title}`, '');
    if (s.skipped) out.push(`Skipped: ${s.skipped}.`, '');
    else if (s.error) out.push(`Failed: ${s.error}`, '');
    else out.push(s.markdown ?? '', '');
  }
  return out.join('\n');
}
