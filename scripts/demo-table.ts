/**
 * The demo's tables as text: pure formatting, no I/O, so what a newcomer reads first is
 * unit-tested. Numbers are written for people (`61,032,730.12`, `16.3 MiB`, `3.41×`).
 */
import { formatBytes, formatRatio, ratio } from "./bench/stats.ts";

export type Align = "left" | "right";

/** Columns padded to their widest cell; the first row is the header, underlined. */
export function renderTable(rows: readonly (readonly string[])[], align: readonly Align[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (align[i] === "right" ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("   ")
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => "─".repeat(w)).join("   "), ...rows.slice(1).map(line)].map((l) => `  ${l}`).join("\n");
}

/** One way of running the demo's queries, and what it cost the backend. */
export interface Run {
  label: string;
  ms: number;
  backendRequests: number;
  backendBytes: number;
}

/** Time, speedup against the first run (going direct), and backend requests and bytes. */
export function comparisonTable(runs: readonly Run[]): string {
  const direct = runs[0]!;
  return renderTable(
    [["", "time", "vs direct", "backend requests", "backend bytes"], ...runs.map((r) => [r.label, formatMs(r.ms), formatRatio(ratio(direct.ms, r.ms)), r.backendRequests.toLocaleString("en"), formatBytes(r.backendBytes)])],
    ["left", "right", "right", "right", "right"],
  );
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms).toLocaleString("en")} ms`;
}

/** A count or amount with thousands separators and at most `digits` decimals, never in e-notation. */
export function formatNumber(n: number, digits = 0): string {
  return n.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
