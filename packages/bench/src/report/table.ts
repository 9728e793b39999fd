// The terminal table printed at the end of a run.
import type { BenchResult } from '../results.js';
import { HEADERS, rows } from './rows.js';

export function terminalTable(r: BenchResult): string {
  const out: string[] = [];
  for (const c of r.contenders) if (c.status !== 'ran') out.push(`${c.name}: ${c.reason}`);
  for (const w of r.workloads) {
    out.push('', `${w.workload.id}: ${w.workload.title}`);
    if (w.skipped) {
      out.push(`  skipped: ${w.skipped}`);
      continue;
    }
    const body = rows(w);
    const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
    const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    out.push(line(HEADERS), ...body.map(line));
    for (const cap of w.kernelCaps) out.push(`  kernel: ${cap}`);
    for (const c of w.cells) for (const cap of c.caps) out.push(`  ${c.contender}: ${cap}`);
  }
  // Sections are already tables in markdown, which reads fine in a terminal.
  for (const s of r.sections) out.push('', `${s.title}`, '', s.skipped ? `  skipped: ${s.skipped}` : s.error ? `  failed: ${s.error}` : s.markdown ?? '');
  return out.join('\n');
}
