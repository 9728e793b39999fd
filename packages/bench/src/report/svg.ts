// SVG charts drawn by hand (small multiples, one panel per workload) so a person can open
// them in any browser: throughput with the rounds' min-max, and latency percentiles.
import type { BenchResult, Cell, Summary, WorkloadResult } from '../results.js';
import { fmtBytes, fmtMs, fmtRps } from './format.js';

const W = 980;
const LABEL_W = 170;
const X0 = LABEL_W + 10;
const X1 = W - 230;
/** The latency chart's labels (three percentiles) need more room than the throughput ones. */
const X1_LAT = W - 290;
const ROW = 22;
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const text = (x: number, y: number, s: string, attrs = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;

function colorOf(r: BenchResult): (name: string) => string {
  const names = r.contenders.map((c) => c.name);
  return (name) => PALETTE[Math.max(0, names.indexOf(name)) % PALETTE.length]!;
}

function measured(r: BenchResult): WorkloadResult[] {
  return r.workloads.filter((w) => !w.skipped && w.cells.length > 0);
}

function frame(title: string, subtitle: string, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    text(12, 24, title, 'font-size="17" font-weight="bold"'),
    text(12, 42, subtitle, 'fill="#555"'),
    ...body,
    '</svg>',
  ].join('\n');
}

/** One row per contender: its name, then `draw` for its numbers or a "failed" mark. */
function contenderRows(cells: Cell[], y: number, body: string[], draw: (c: Cell, s: Summary, y: number) => void): number {
  for (const c of cells) {
    body.push(text(LABEL_W, y + 15, c.contender, 'text-anchor="end"'));
    if (c.summary) draw(c, c.summary, y);
    else body.push(text(X0, y + 15, c.error ? 'failed' : 'no sample', 'fill="#a00"'));
    y += ROW;
  }
  return y;
}

export function throughputSvg(r: BenchResult): string {
  const color = colorOf(r);
  const body: string[] = [];
  let y = 60;
  for (const w of measured(r)) {
    body.push(text(12, y + 14, `${w.workload.id} — ${w.workload.title}`, 'font-weight="bold"'));
    y += 22;
    const max = Math.max(1, ...w.cells.map((c) => c.summary?.rpsMax ?? 0));
    const sx = (v: number) => X0 + ((X1 - X0) * v) / max;
    y = contenderRows(w.cells, y, body, (c, s, y) => {
      body.push(`<rect x="${X0}" y="${y + 3}" width="${(sx(s.rps) - X0).toFixed(1)}" height="${ROW - 6}" fill="${color(c.contender)}"/>`);
      if (s.rpsMax > s.rpsMin) {
        const cy = y + ROW / 2;
        body.push(`<path d="M${sx(s.rpsMin).toFixed(1)} ${cy}H${sx(s.rpsMax).toFixed(1)}M${sx(s.rpsMin).toFixed(1)} ${cy - 5}v10M${sx(s.rpsMax).toFixed(1)} ${cy - 5}v10" stroke="#000" stroke-width="1.2" fill="none"/>`);
      }
      const errs = s.errors + s.timeouts + s.non2xx;
      body.push(text(Math.max(sx(s.rpsMax), sx(s.rps)) + 8, y + 15, `${fmtRps(s.rps)} req/s · ${fmtBytes(s.bytesPerSec)}${errs ? ` · ${errs} errors` : ''}`));
    });
    y += 14;
  }
  const sub = `req/s, median of ${r.rounds} round(s); whiskers: min–max over rounds · ${r.machine.cpus} cores, server on CPU ${r.machine.serverCpus}, load on CPU ${r.machine.loadCpus} · ${r.startedAt}`;
  return frame('HTTP throughput per contender', sub, y + 10, body);
}

export function latencySvg(r: BenchResult): string {
  const color = colorOf(r);
  const all = measured(r).flatMap((w) => w.cells.flatMap((c) => (c.summary ? [c.summary.latencyMs.p50, c.summary.latencyMs.p99] : [])));
  const finite = all.filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(0.1, ...finite))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(10, ...finite))));
  const sx = (v: number) => X0 + ((X1_LAT - X0) * (Math.log10(Math.max(v, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  const body: string[] = [];
  // Legend: the three nested bars.
  const legend: Array<[string, number]> = [['p50', 1], ['p90', 0.55], ['p99', 0.25]];
  legend.forEach(([name, op], i) => {
    body.push(`<rect x="${W - 230 + i * 70}" y="14" width="14" height="12" fill="#444" fill-opacity="${op}"/>`, text(W - 212 + i * 70, 25, name));
  });
  let y = 60;
  for (const w of measured(r)) {
    body.push(text(12, y + 14, `${w.workload.id} — ${w.workload.title}`, 'font-weight="bold"'));
    y += 22;
    // Decade grid first so the bars stay on top of it; tick labels under the panel.
    const bottom = y + w.cells.length * ROW;
    for (let d = lo; d <= hi * 1.0001; d *= 10) {
      body.push(`<line x1="${sx(d).toFixed(1)}" y1="${y}" x2="${sx(d).toFixed(1)}" y2="${bottom}" stroke="#000" stroke-opacity="0.15"/>`);
      body.push(text(sx(d), bottom + 12, fmtMs(d), 'text-anchor="middle" font-size="10" fill="#555"'));
    }
    y = contenderRows(w.cells, y, body, (c, s, y) => {
      // Nested bars from the axis: p99 (lightest) under p90 under p50.
      for (const [key, op] of [['p99', 0.25], ['p90', 0.55], ['p50', 1]] as const) {
        const v = s.latencyMs[key];
        if (Number.isFinite(v)) body.push(`<rect x="${X0}" y="${y + 3}" width="${Math.max(1, sx(v) - X0).toFixed(1)}" height="${ROW - 6}" fill="${color(c.contender)}" fill-opacity="${op}"/>`);
      }
      body.push(text(X1_LAT + 10, y + 15, `p50 ${fmtMs(s.latencyMs.p50)} · p90 ${fmtMs(s.latencyMs.p90)} · p99 ${fmtMs(s.latencyMs.p99)}`));
    });
    y += 28;
  }
  const sub = `latency percentiles (log scale), median over ${r.rounds} round(s) · ${r.startedAt}`;
  return frame('HTTP latency per contender', sub, y + 10, body);
}
