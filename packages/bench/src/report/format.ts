// Number formatting shared by the terminal table, the markdown report and the charts.
export function fmtRps(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  if (n >= 100_000) return `${Math.round(n / 1000)}k`;
  if (n >= 10_000) return `${(n / 1000).toFixed(1)}k`;
  return `${Math.round(n)}`;
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  // ab and autocannon count whole milliseconds: 0 means under one.
  if (ms === 0) return '<1 ms';
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(ms >= 1 ? 1 : 2)} ms`;
}

export function fmtBytes(bps: number | undefined): string {
  if (bps === undefined || !Number.isFinite(bps)) return '-';
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let v = bps;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function fmtRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? '-' : `${r.toFixed(2)}×`;
}

export const fmtPct = (f: number): string => (Number.isFinite(f) ? `${Math.round(f * 100)}%` : '-');
