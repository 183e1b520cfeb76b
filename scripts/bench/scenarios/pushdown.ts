/**
 * Queries that prune, as engines run them on S3: a point lookup on the sorted `id`, a
 * narrow `ts` window and a 2-of-11-column aggregate, over many row groups, so each reads a
 * few of the dataset's bytes in many ranges. Local files, direct, ours cold and warm and
 * nginx warm, every path but local across the S3-shaped link.
 */
import type { BenchContext } from "../config.ts";
import { columnsOf } from "../dataset.ts";
import { describeLink } from "../link.ts";
import { atMost, formatBytes, formatRatio, ratio } from "../stats.ts";
import { emptyResult } from "../result.ts";
import type { ScenarioResult } from "../types.ts";
import { basePaths, figure, measureQueries, prepareWorkload, queryChart, queryTables, wrongAnswers, type Results } from "./_queries.ts";
import { PUSHDOWN as QUERIES } from "./_query-sets.ts";

export async function pushdown(ctx: BenchContext): Promise<ScenarioResult> {
  const { config } = ctx;
  const block = config.blockSize;
  const w = await prepareWorkload(ctx, config.pushdown.dataset, QUERIES);
  const ds = w.dataset;
  const groups = (ds.rowsPerFile / ds.rowGroupSize) * ds.files;
  const result = emptyResult(
    "pushdown",
    "Queries that prune, on an S3-shaped link (nodejs-polars)",
    `**Link: ${describeLink(config.link)}** (the latency relay in front of the backend, which counts backend requests and bytes). nodejs-polars \`scanParquet\` (Rust object_store) over ${ds.files} Parquet files, ${formatBytes(ds.bytes)}, ${ds.rows.toLocaleString("en")} rows in ${groups} row groups of ${ds.rowGroupSize.toLocaleString("en")} rows (snappy, with statistics), ${columnsOf(ds).length} columns, \`id\` and \`ts\` sorted across the files. Queries: ${QUERIES.map((q) => `**${q.name}**: ${q.description}`).join("; ")}. Paths: local files (the floor), direct to the backend, ours cold (a fresh process) then warm (the same query again) and warm again, nginx cold once and warm. Block size ${formatBytes(block)} for ours and nginx. Wall time per query, median of ${config.reps} repetitions (min–max).`,
  );
  const paths = basePaths(ctx, block);
  let results: Results;
  try {
    results = await measureQueries(ctx, w, paths);
  } finally {
    await w.stop();
  }
  const ms = (label: string, q: string) => figure(results, label, q, "ms").median;
  const bytes = (label: string, q: string) => figure(results, label, q, "bytes").median;
  result.tables.push(...queryTables(results, QUERIES));
  for (const q of QUERIES) {
    result.targets.push({ goal: `pushdown ${q.name}: ours cold ≤ 1.0× direct`, ...atMost(ratio(ms("ours cold", q.name), ms("direct", q.name)), 1, formatRatio) });
    result.targets.push({ goal: `pushdown ${q.name}: ours warm ≤ 1.0× nginx warm`, ...atMost(ratio(ms("ours warm", q.name), ms("nginx warm", q.name)), 1, formatRatio) });
  }
  // Widening is the first suspect when cold loses: every byte past the client's own ranges crosses the paced link too.
  result.notes.push(`Bytes ours fetched cold ÷ bytes direct fetched: ${QUERIES.map((q) => `${q.name} ${formatRatio(ratio(bytes("ours cold", q.name), bytes("direct", q.name)))}`).join(", ")} (block ${formatBytes(block)}).`);
  const wrong = wrongAnswers(results, "local", QUERIES);
  result.notes.push(wrong.length ? `**Answers differing from the local files**: ${wrong.join(", ")}.` : "Every path returned the same answer as the local files for every query.");
  result.charts.push(queryChart(results, QUERIES, "pushdown.svg", `Pruning Polars queries, link: ${describeLink(config.link)}`));
  return result;
}
