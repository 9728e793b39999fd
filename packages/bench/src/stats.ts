export function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** (max - min) / median: how far apart the runs were, as a fraction. */
export function spread(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length < 2) return 0;
  const m = median(v);
  return m > 0 ? (Math.max(...v) - Math.min(...v)) / m : 0;
}
