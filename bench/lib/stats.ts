// Medians, rates and the plain-text figures the benchmark prints.
export const MB = 1e6;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
export const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : 'n/a');
export const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');

/** "412 MB/s (398, 412, 430)": the median and, with several runs, every run. */
export function withRuns(values: number[], unit: string, digits = 0): string {
  const m = `${fmt(median(values), digits)} ${unit}`;
  return values.length > 1 ? `${m}  (runs: ${values.map((v) => fmt(v, digits)).join(', ')})` : m;
}
