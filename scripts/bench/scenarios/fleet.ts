/**
 * A fleet: three of ours sharing a three-master Redis Cluster run the `query` scenario's
 * queries one after the other, proxy 1 cold, then proxies 2 and 3, which should find every
 * block in the cluster; against one of ours with only its memory tier (cold, then warm) and
 * direct, on the S3-shaped link that counts what reaches the backend.
 */
import type { BenchContext } from "../config.ts";
import { describeLink } from "../link.ts";
import { loadAverage, loadNote } from "../load-average.ts";
import { atLeast, atMost, formatBytes, formatRatio, ratio } from "../stats.ts";
import { emptyResult } from "../result.ts";
import type { ScenarioResult } from "../types.ts";
import { startRedisCluster } from "../../../test/support/redis-cluster.ts";
import { measureQueries, measureTables, prepareWorkload, queryChart, ratioTable, totalMs, wrongAnswers, type Path, type Results } from "./_queries.ts";
import { ANALYTICS as QUERIES } from "./_query-sets.ts";

const MEMORY = "memory only";
const FLEET = "fleet";
const PROXIES = ["proxy 1 cold", "proxy 2", "proxy 3"];
/** The proxies that should read only from the cluster. */
const SHARERS = PROXIES.slice(1).map((p) => `${FLEET} ${p}`);

export async function fleet(ctx: BenchContext): Promise<ScenarioResult> {
  const { config } = ctx;
  const block = config.blockSize;
  const result = emptyResult(
    "fleet",
    "A fleet sharing a Redis Cluster (nodejs-polars)",
    `**Link: ${describeLink(config.link)}** (the latency relay in front of the backend, which counts backend requests and bytes). The \`query\` scenario's dataset and queries (${QUERIES.map((q) => `**${q.name}**`).join(", ")}). A real Redis Cluster of 3 masters on loopback (Debian redis-server, 1 GiB \`maxmemory\` each, \`allkeys-lru\`), emptied before each query; 3 of ours started with \`--redis-cluster\` and block size ${formatBytes(block)}: the query runs through proxy 1 (cold: nothing in its memory or the cluster), then, once proxy 1's fills and cluster writes have landed (its \`s3proxy_cache_tier_events_total{event="writes"}\` standing still), through proxy 2, then proxy 3, each with only the cluster to find the blocks in. Compared with one of ours with only its memory tier (a fresh process: cold, then warm, then warm again), direct to the backend, and local files (the floor). Wall time per query, median of ${config.reps} repetitions (min–max); fresh proxies for each query and repetition.`,
  );
  if (!ctx.has.redis) {
    result.notes.push("Not measured: redis-server is not installed.");
    return result;
  }
  const loadBefore = loadAverage();
  const w = await prepareWorkload(ctx, config.query.dataset, QUERIES);
  const cluster = await startRedisCluster(3, "1gb");
  const flush = () => Promise.all(cluster.ports.map((_, i) => cluster.cli(i, ["FLUSHALL"])));
  const paths: Path[] = [
    { label: "local", kind: "local" },
    { label: "direct", kind: "direct" },
    { label: MEMORY, kind: "ours", blockSize: block },
    { label: FLEET, kind: "ours-shared", blockSize: block, tierFlags: ["--redis-cluster", cluster.seeds], proxies: PROXIES, flush },
  ];
  let results: Results;
  try {
    results = await measureQueries(ctx, w, paths);
  } finally {
    await w.stop();
    await cluster.stop();
  }
  const total = (label: string) => totalMs(results, label, QUERIES);
  result.tables.push(
    ...measureTables(results, QUERIES),
    ratioTable(results, QUERIES, [
      [SHARERS[0]!, `${MEMORY} warm`],
      [SHARERS[1]!, `${MEMORY} warm`],
      ["direct", SHARERS[0]!, `direct ÷ ${SHARERS[0]} (speedup)`],
      [`${FLEET} ${PROXIES[0]}`, `${MEMORY} cold`],
    ]),
  );
  // Every repetition counts: one backend request from proxy 2 or 3 is a block the cluster did not have.
  const backend = (f: "requests" | "bytes") => SHARERS.flatMap((l) => QUERIES.flatMap((q) => results.get(l)?.get(q.name)?.[f] ?? [])).reduce((a, b) => a + b, 0);
  result.targets.push({ goal: "fleet: proxies 2 and 3 make 0 backend requests (every query, every repetition)", measured: `${backend("requests")} (${formatBytes(backend("bytes"))})`, met: backend("requests") === 0 });
  const slower = Math.max(...SHARERS.map(total));
  result.targets.push({ goal: "fleet: proxies 2 and 3 ≤ 1.25× the memory-only proxy warm (sum of the 3 queries, the slower of the two)", ...atMost(ratio(slower, total(`${MEMORY} warm`)), 1.25, formatRatio) });
  result.targets.push({ goal: "fleet: proxies 2 and 3 ≥ 1.5× faster than direct (sum of the 3 queries, the slower of the two)", ...atLeast(ratio(total("direct"), slower), 1.5) });
  for (const l of SHARERS) {
    result.notes.push(
      `${l}: ${formatRatio(ratio(total(l), total(`${MEMORY} warm`)))} of the memory-only proxy warm, ${formatRatio(ratio(total("direct"), total(l)))} faster than direct, ${formatRatio(ratio(total(l), total("local")))} of local files (sums of the 3 queries).`,
    );
  }
  result.notes.push(`What the cluster costs the cold proxy (writing every fill to it): ${FLEET} ${PROXIES[0]} ${formatRatio(ratio(total(`${FLEET} ${PROXIES[0]}`), total(`${MEMORY} cold`)))} of the memory-only proxy cold (sum of the 3 queries).`);
  result.notes.push(loadNote(loadBefore));
  const wrong = wrongAnswers(results, "local", QUERIES);
  result.notes.push(wrong.length ? `**Answers differing from the local files**: ${wrong.join(", ")}.` : "Every path returned the same answer as the local files for every query.");
  result.charts.push(queryChart(results, QUERIES, "fleet.svg", `Polars queries through a fleet of 3 sharing a Redis Cluster, link: ${describeLink(config.link)}`));
  return result;
}
