/** Small statistics over repeated measurements: medians with their spread, percentiles. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Nearest-rank percentile (p in 0..100) of an unsorted sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  return { median: percentile(values, 50), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

/** "12.3 (11.9–13.0)": the median and the range of the repetitions. */
export function formatSummary(s: Summary, digits = 1): string {
  if (s.n === 0 || Number.isNaN(s.median)) return "n/a";
  if (s.n === 1) return s.median.toFixed(digits);
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

export function ratio(a: number, b: number): number {
  return b === 0 || Number.isNaN(a) || Number.isNaN(b) ? NaN : a / b;
}

export function formatRatio(r: number): string {
  return Number.isNaN(r) ? "n/a" : `${r.toFixed(2)}×`;
}

export const KiB = 1024;
export const MiB = 1024 * 1024;

export function formatBytes(n: number): string {
  if (n >= MiB && n % (MiB / 4) === 0) return `${n / MiB} MiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n >= KiB) return `${Math.round(n / KiB)} KiB`;
  return `${n} B`;
}

/** A target of the form "ratio ≥ goal", as the report states it. */
export function atLeast(r: number, goal: number): { measured: string; met: boolean | null } {
  return { measured: formatRatio(r), met: Number.isNaN(r) ? null : r >= goal };
}

/** A target of the form "value ≤ limit". */
export function atMost(value: number, limit: number, format: (v: number) => string): { measured: string; met: boolean | null } {
  return { measured: format(value), met: Number.isNaN(value) ? null : value <= limit };
}
