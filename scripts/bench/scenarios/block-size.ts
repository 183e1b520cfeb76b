/** The query scenario through ours at several block sizes, to choose the default. */
import type { BenchContext } from "../config.ts";
import { formatBytes, formatRatio, formatSummary, ratio, summarize } from "../stats.ts";
import type { ScenarioResult } from "../types.ts";
import { measureQueries, prepareWorkload, QUERIES, wrongAnswers, type Path, type Results } from "./_queries.ts";

export async function blockSize(ctx: BenchContext): Promise<ScenarioResult> {
  const { config } = ctx;
  const w = await prepareWorkload(ctx);
  const result: ScenarioResult = {
    name: "block-size",
    title: "Block size",
    method: `The \`query\` workload (same dataset, queries and ${config.query.delayMs} ms relay) through ours cold and warm at block sizes ${config.blockSizes.map(formatBytes).join(", ")}, with the local files and direct in the same run for the ratios. Median of ${config.reps} repetitions (min–max).`,
    tables: [],
    charts: [],
    targets: [],
    notes: [],
  };
  const paths: Path[] = [
    { label: "local", kind: "local" },
    { label: "direct", kind: "direct" },
    ...config.blockSizes.map((b): Path => ({ label: formatBytes(b), kind: "ours", blockSize: b })),
  ];
  let results: Results;
  try {
    results = await measureQueries(ctx, w, paths);
  } finally {
    await w.stop();
  }
  const total = (label: string, f: "ms" | "requests" | "bytes") => QUERIES.reduce((sum, q) => sum + summarize(results.get(label)?.get(q.name)?.[f] ?? []).median, 0);
  const totals = (label: string) => {
    // Sum over queries, per repetition, so the spread is the spread of the sum.
    const per = QUERIES.map((q) => results.get(label)?.get(q.name)?.ms ?? []);
    return summarize(per[0]!.map((_, i) => per.reduce((s, xs) => s + (xs[i] ?? NaN), 0)));
  };
  const rows = config.blockSizes.map((b) => {
    const l = formatBytes(b);
    return [l, formatSummary(totals(`${l} cold`), 0), formatSummary(totals(`${l} warm`), 0), String(total(`${l} cold`, "requests")), formatBytes(total(`${l} cold`, "bytes")), formatRatio(ratio(total(`${l} cold`, "ms"), total("direct", "ms"))), formatRatio(ratio(total(`${l} warm`, "ms"), total("local", "ms")))];
  });
  result.tables.push({ caption: `Sum of the 3 queries; local ${formatSummary(totals("local"), 0)} ms, direct ${formatSummary(totals("direct"), 0)} ms`, columns: ["block", "cold ms", "warm ms", "cold backend requests", "cold backend bytes", "cold ÷ direct", "warm ÷ local"], rows });
  const best = [...config.blockSizes].sort((a, b) => totals(`${formatBytes(a)} cold`).median - totals(`${formatBytes(b)} cold`).median)[0]!;
  result.notes.push(`Fastest cold total in this run: ${formatBytes(best)} (the default is ${formatBytes(config.blockSize)}).`);
  const wrong = wrongAnswers(results, "local");
  if (wrong.length) result.notes.push(`**Answers differing from the local files**: ${wrong.join(", ")}.`);
  result.charts.push({
    kind: "bars",
    file: "block-size.svg",
    title: "Sum of the 3 Polars queries by block size (median, whisker = min–max)",
    unit: "ms",
    groups: config.blockSizes.map((b) => {
      const l = formatBytes(b);
      return { label: l, bars: (["cold", "warm"] as const).map((t) => ({ series: `ours ${t}`, value: totals(`${l} ${t}`).median, min: totals(`${l} ${t}`).min, max: totals(`${l} ${t}`).max })) };
    }),
  });
  return result;
}
