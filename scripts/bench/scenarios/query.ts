/**
 * A real engine: nodejs-polars (Rust object_store) runs three analytical queries over the
 * Parquet dataset from local disk (the floor), direct, through ours cold and warm, and
 * through nginx warm, with the latency relay in front of the backend.
 */
import type { BenchContext } from "../config.ts";
import { atMost, formatBytes, formatRatio, formatSummary, ratio, summarize } from "../stats.ts";
import type { ScenarioResult } from "../types.ts";
import { startRedis } from "../../../test/support/redis.ts";
import { measureQueries, prepareWorkload, QUERIES, wrongAnswers, type Path, type Results } from "./_queries.ts";

export async function query(ctx: BenchContext): Promise<ScenarioResult> {
  const { config } = ctx;
  const block = config.blockSize;
  const w = await prepareWorkload(ctx);
  const ds = w.dataset;
  const result: ScenarioResult = {
    name: "query",
    title: "Analytical queries (nodejs-polars)",
    method: `nodejs-polars \`scanParquet\` (Rust object_store) over ${ds.names.length} Parquet files, ${formatBytes(ds.bytes)}, ${ds.rows.toLocaleString("en")} rows, row groups of ${ds.rowGroupSize.toLocaleString("en")} rows (snappy), one lazy frame over all files. Queries: ${QUERIES.map((q) => `**${q.name}**: ${q.description}`).join("; ")}. Paths: local files (the floor), direct to the backend, ours cold (fresh process) then warm (same query again), nginx warm, and the cache tiers: ours with \`--cache-dir\` cold then restarted on the same directory (disk tier after restart), and two of ours sharing a \`--redis-url\` (emptied first), the first cold, then the query on the second (Redis tier, second proxy); the backend sits behind the latency relay (${config.query.delayMs} ms to first byte), which counts backend requests. Block size ${formatBytes(block)} for ours and nginx. Wall time per query, median of ${config.reps} repetitions (min–max).`,
    tables: [],
    charts: [],
    targets: [],
    notes: [],
  };
  const paths: Path[] = [
    { label: "local", kind: "local" },
    { label: "direct", kind: "direct" },
    { label: "ours", kind: "ours", blockSize: block },
  ];
  if (ctx.has.nginx) paths.push({ label: "nginx", kind: "nginx", blockSize: block });
  // The cache tiers: warm from disk after a restart, and warm from Redis on a second proxy.
  paths.push({ label: "ours disk tier", kind: "ours-disk", blockSize: block });
  const redis = ctx.has.redis ? await startRedis("1gb") : undefined;
  if (redis) paths.push({ label: "ours redis tier", kind: "ours-redis", blockSize: block, redisUrl: redis.url, flush: () => redis.command("FLUSHALL") });
  let results: Results;
  try {
    results = await measureQueries(ctx, w, paths);
  } finally {
    await w.stop();
    await redis?.stop();
  }
  const labels = [...results.keys()];
  const ms = (label: string, q: string) => summarize(results.get(label)?.get(q)?.ms ?? []);
  const reqs = (label: string, q: string) => summarize(results.get(label)?.get(q)?.requests ?? []);
  const bytes = (label: string, q: string) => summarize(results.get(label)?.get(q)?.bytes ?? []);
  result.tables.push({
    caption: "Wall time per query, ms",
    columns: ["path", ...QUERIES.map((q) => q.name)],
    rows: labels.map((l) => [l, ...QUERIES.map((q) => formatSummary(ms(l, q.name), 0))]),
  });
  result.tables.push({
    caption: "Backend requests (and bytes) per query, median",
    columns: ["path", ...QUERIES.map((q) => q.name)],
    rows: labels.filter((l) => l !== "local").map((l) => [l, ...QUERIES.map((q) => `${reqs(l, q.name).median} (${formatBytes(bytes(l, q.name).median)})`)]),
  });
  result.tables.push({
    caption: "Ratios (same run)",
    columns: ["query", "ours warm ÷ local", "direct ÷ ours warm (speedup)", "ours cold ÷ direct", "ours warm ÷ nginx warm"],
    rows: QUERIES.map((q) => [
      q.name,
      formatRatio(ratio(ms("ours warm", q.name).median, ms("local", q.name).median)),
      formatRatio(ratio(ms("direct", q.name).median, ms("ours warm", q.name).median)),
      formatRatio(ratio(ms("ours cold", q.name).median, ms("direct", q.name).median)),
      formatRatio(ratio(ms("ours warm", q.name).median, ms("nginx warm", q.name).median)),
    ]),
  });
  const total = (label: string) => QUERIES.reduce((sum, q) => sum + ms(label, q.name).median, 0);
  result.targets.push({ goal: "query warm through ours ≤ 1.25× local files (sum of the 3 queries)", ...atMost(ratio(total("ours warm"), total("local")), 1.25, formatRatio) });
  for (const q of QUERIES) result.targets.push({ goal: `query ${q.name} warm through ours ≤ 1.25× local files`, ...atMost(ratio(ms("ours warm", q.name).median, ms("local", q.name).median), 1.25, formatRatio) });
  result.targets.push({ goal: "query cold through ours ≤ 1.1× direct (sum of the 3 queries)", ...atMost(ratio(total("ours cold"), total("direct")), 1.1, formatRatio) });
  for (const tier of ["ours disk tier after restart", "ours redis tier second proxy"]) {
    if (results.has(tier)) result.notes.push(`${tier}: ${formatRatio(ratio(total(tier), total("local")))} of local files, ${formatRatio(ratio(total("direct"), total(tier)))} faster than direct (sum of the 3 queries; its backend requests are in the table above).`);
  }
  result.notes.push(`Speedup of ours warm over direct, sum of the 3 queries: ${formatRatio(ratio(total("direct"), total("ours warm")))}; nginx warm over direct: ${formatRatio(ratio(total("direct"), total("nginx warm")))}.`);
  result.notes.push(`Ours warm again (each query a third time, same process): ${formatRatio(ratio(total("ours warm again"), total("local")))} of local files, ${formatRatio(ratio(total("direct"), total("ours warm again")))} faster than direct, ${formatRatio(ratio(total("ours warm again"), total("nginx warm")))} of nginx warm (sums of the 3 queries). The targets above use the first repeat.`);
  const wrong = wrongAnswers(results, "local");
  result.notes.push(wrong.length ? `**Answers differing from the local files**: ${wrong.join(", ")}.` : "Every path returned the same answer as the local files for every query.");
  result.charts.push({
    kind: "bars",
    file: "query.svg",
    title: `Polars query wall time, ${config.query.delayMs} ms backend latency (median, whisker = min–max)`,
    unit: "ms",
    groups: QUERIES.map((q) => ({ label: q.name, bars: labels.map((l) => ({ series: l, value: ms(l, q.name).median, min: ms(l, q.name).min, max: ms(l, q.name).max })) })),
  });
  return result;
}
