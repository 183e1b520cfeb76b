/**
 * A real engine: nodejs-polars (Rust object_store) runs three analytical queries over the
 * Parquet dataset from local disk (the floor), direct, through ours cold and warm, and
 * through nginx warm, with the S3-shaped link in front of the backend; and the cache tiers.
 */
import type { BenchContext } from "../config.ts";
import { describeLink } from "../link.ts";
import { atMost, formatBytes, formatRatio, ratio } from "../stats.ts";
import { emptyResult } from "../result.ts";
import type { ScenarioResult } from "../types.ts";
import { startRedis } from "../../../test/support/redis.ts";
import { basePaths, figure, measureQueries, prepareWorkload, queryChart, queryTables, totalMs, wrongAnswers, type Results } from "./_queries.ts";
import { ANALYTICS as QUERIES } from "./_query-sets.ts";

export async function query(ctx: BenchContext): Promise<ScenarioResult> {
  const { config } = ctx;
  const block = config.blockSize;
  const w = await prepareWorkload(ctx, config.query.dataset, QUERIES);
  const ds = w.dataset;
  const result = emptyResult(
    "query",
    "Analytical queries (nodejs-polars)",
    `nodejs-polars \`scanParquet\` (Rust object_store) over ${ds.names.length} Parquet files, ${formatBytes(ds.bytes)}, ${ds.rows.toLocaleString("en")} rows, row groups of ${ds.rowGroupSize.toLocaleString("en")} rows (snappy), one lazy frame over all files. Queries: ${QUERIES.map((q) => `**${q.name}**: ${q.description}`).join("; ")}. Paths: local files (the floor), direct to the backend, ours cold (fresh process) then warm (same query again), nginx warm, and the cache tiers: ours with \`--cache-dir\` cold then restarted on the same directory (disk tier after restart), and two of ours sharing a \`--redis-url\` (emptied first), the first cold, then the query on the second (Redis tier, second proxy); the backend sits behind the latency relay, **link: ${describeLink(config.link)}**, which counts backend requests. Block size ${formatBytes(block)} for ours and nginx. Wall time per query, median of ${config.reps} repetitions (min–max).`,
  );
  const paths = basePaths(ctx, block);
  // The cache tiers: warm from disk after a restart, and warm from Redis on a second proxy.
  paths.push({ label: "ours disk tier", kind: "ours-disk", blockSize: block });
  const redis = ctx.has.redis ? await startRedis("1gb") : undefined;
  if (redis) paths.push({ label: "ours redis tier", kind: "ours-shared", blockSize: block, tierFlags: ["--redis-url", redis.url], proxies: ["cold", "second proxy"], flush: () => redis.command("FLUSHALL") });
  let results: Results;
  try {
    results = await measureQueries(ctx, w, paths);
  } finally {
    await w.stop();
    await redis?.stop();
  }
  const ms = (label: string, q: string) => figure(results, label, q, "ms");
  result.tables.push(...queryTables(results, QUERIES));
  const total = (label: string) => totalMs(results, label, QUERIES);
  result.targets.push({ goal: "query warm through ours ≤ 1.25× local files (sum of the 3 queries)", ...atMost(ratio(total("ours warm"), total("local")), 1.25, formatRatio) });
  for (const q of QUERIES) result.targets.push({ goal: `query ${q.name} warm through ours ≤ 1.25× local files`, ...atMost(ratio(ms("ours warm", q.name).median, ms("local", q.name).median), 1.25, formatRatio) });
  result.targets.push({ goal: "query cold through ours ≤ 1.1× direct (sum of the 3 queries)", ...atMost(ratio(total("ours cold"), total("direct")), 1.1, formatRatio) });
  for (const tier of ["ours disk tier after restart", "ours redis tier second proxy"]) {
    if (results.has(tier))
      result.notes.push(`${tier}: ${formatRatio(ratio(total(tier), total("local")))} of local files, ${formatRatio(ratio(total("direct"), total(tier)))} faster than direct (sum of the 3 queries; its backend requests are in the table above).`);
  }
  result.notes.push(`Speedup of ours warm over direct, sum of the 3 queries: ${formatRatio(ratio(total("direct"), total("ours warm")))}; nginx warm over direct: ${formatRatio(ratio(total("direct"), total("nginx warm")))}.`);
  result.notes.push(
    `Ours warm again (each query a third time, same process): ${formatRatio(ratio(total("ours warm again"), total("local")))} of local files, ${formatRatio(ratio(total("direct"), total("ours warm again")))} faster than direct, ${formatRatio(ratio(total("ours warm again"), total("nginx warm")))} of nginx warm (sums of the 3 queries). The targets above use the first repeat.`,
  );
  const wrong = wrongAnswers(results, "local", QUERIES);
  result.notes.push(wrong.length ? `**Answers differing from the local files**: ${wrong.join(", ")}.` : "Every path returned the same answer as the local files for every query.");
  result.charts.push(queryChart(results, QUERIES, "query.svg", `Polars query wall time, link: ${describeLink(config.link)}`));
  return result;
}
