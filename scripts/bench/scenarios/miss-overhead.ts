/**
 * What a miss costs: sequential range GETs, each on a block no one has read yet, straight
 * to the backend (latency 0) and through ours, ours --no-cache and nginx. The proxies are
 * restarted every repetition so every request is a miss.
 */
import { objectBytes, objectUrl, putObject, type BenchContext } from "../config.ts";
import { startNginx } from "../nginx.ts";
import { startOurs, startRawHop, type Peer } from "../peers.ts";
import { atMost, formatBytes, formatSummary, percentile, summarize } from "../stats.ts";
import type { ScenarioResult } from "../types.ts";

const KEY = "miss/object.bin";

/** Time each request until its body is read in full, ms; block `first + i` for request i. */
async function timeRequests(endpoint: string, url: (i: number) => string, n: number, rangeSize: number, blockSize: number, first = 0): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const offset = (first + i) * blockSize;
    const t0 = performance.now();
    const res = await fetch(url(i), { headers: { range: `bytes=${offset}-${offset + rangeSize - 1}` } });
    const body = await res.arrayBuffer();
    times.push(performance.now() - t0);
    if (res.status !== 206 || body.byteLength !== rangeSize) throw new Error(`${endpoint}: range ${i} answered ${res.status} with ${body.byteLength} bytes`);
  }
  return times;
}

export async function missOverhead(ctx: BenchContext): Promise<ScenarioResult> {
  const { config, backend } = ctx;
  const { requests, rangeSize } = config.miss;
  const block = config.blockSize;
  const result: ScenarioResult = {
    name: "miss-overhead",
    title: "Miss overhead",
    method: `${requests} sequential GETs of ${formatBytes(rangeSize)} at the start of ${requests} distinct ${formatBytes(block)} blocks, no added latency, one keep-alive client (Bun fetch) timing each request to its last body byte. Ours and nginx fetch the whole block from the backend on a miss (nginx: its slice), and ours answers as soon as the client's bytes have arrived; \`ours --no-cache\` is the pure forwarding path, and \`raw Bun hop\` (scripts/bench/raw-hop.ts) a bare Bun.serve that forwards with fetch and answers with the body read whole: the floor for any Bun proxy here. Proxies are restarted before each of the ${config.reps} repetitions and first warmed with ${requests} untimed misses on other blocks (a long-running proxy has its code compiled; a fresh Bun process spends its first requests in the JIT); per-request p50/p99 within a repetition, then the median (min–max) over repetitions.`,
    tables: [],
    charts: [],
    targets: [],
    notes: [],
  };
  // The first half warms each path up; the second half is timed, so every timed request is still a miss.
  await putObject(backend, KEY, objectBytes(2 * requests * block));
  const samples = new Map<string, { p50: number[]; p99: number[] }>();
  const record = (name: string, times: number[]) => {
    const s = samples.get(name) ?? { p50: [], p99: [] };
    s.p50.push(percentile(times, 50));
    s.p99.push(percentile(times, 99));
    samples.set(name, s);
    ctx.log(`miss ${name}: p50 ${percentile(times, 50).toFixed(2)} ms p99 ${percentile(times, 99).toFixed(2)} ms`);
  };
  for (let rep = 0; rep < config.reps; rep++) {
    const starters: [string, () => Promise<Peer | undefined>][] = [
      ["direct", async () => undefined],
      ["ours", () => startOurs(backend.endpoint, backend, ["--block-size", String(block)])],
      ["ours --no-cache", () => startOurs(backend.endpoint, backend, ["--no-cache"])],
      ["raw Bun hop", () => startRawHop(backend.endpoint)],
    ];
    if (ctx.has.nginx) starters.push(["nginx", () => startNginx(backend.endpoint, block)]);
    for (const [name, start] of starters) {
      const peer = await start();
      try {
        const endpoint = peer?.endpoint ?? backend.endpoint;
        const url = () => objectUrl(endpoint, backend, KEY);
        await timeRequests(endpoint, url, requests, rangeSize, block);
        record(name, await timeRequests(endpoint, url, requests, rangeSize, block, requests));
      } finally {
        await peer?.stop();
      }
    }
  }
  const direct = { p50: summarize(samples.get("direct")!.p50), p99: summarize(samples.get("direct")!.p99) };
  const rows: string[][] = [];
  for (const [name, s] of samples) {
    const p50 = summarize(s.p50);
    const p99 = summarize(s.p99);
    rows.push([name, formatSummary(p50, 2), formatSummary(p99, 2), name === "direct" ? "" : `${(p50.median - direct.p50.median).toFixed(2)}`, name === "direct" ? "" : `${(p99.median - direct.p99.median).toFixed(2)}`]);
  }
  result.tables.push({ columns: ["path", "p50 ms", "p99 ms", "added p50 ms vs direct", "added p99 ms vs direct"], rows });
  const nginx = samples.get("nginx");
  if (nginx) {
    const ours = samples.get("ours")!;
    result.notes.push(`Ours vs nginx: p50 ${(summarize(ours.p50).median - summarize(nginx.p50).median).toFixed(2)} ms, p99 ${(summarize(ours.p99).median - summarize(nginx.p99).median).toFixed(2)} ms (positive: ours is slower).`);
  }
  const added = summarize(samples.get("ours")!.p50).median - direct.p50.median;
  result.targets.push({ goal: "miss path: ≤ 1 ms added p50 over direct (latency 0)", ...atMost(added, 1, (v) => `${v.toFixed(2)} ms`) });
  const plain = summarize(samples.get("ours --no-cache")!.p50).median - direct.p50.median;
  const hop = summarize(samples.get("raw Bun hop")!.p50).median - direct.p50.median;
  result.notes.push(
    `A miss through ours reads a whole ${formatBytes(block)} block from the backend to answer ${formatBytes(rangeSize)}; the pure forwarding path (\`--no-cache\`) adds ${plain.toFixed(2)} ms at p50, and a bare Bun fetch-and-answer hop ${hop.toFixed(2)} ms: ours' miss adds ${(added - hop).toFixed(2)} ms beyond that floor.`,
  );
  result.charts.push({
    kind: "bars",
    file: "miss-overhead.svg",
    title: "Uncached range GET latency, no added latency (median of reps, whisker = min–max)",
    unit: "ms",
    groups: ["p50", "p99"].map((p) => ({
      label: p,
      bars: [...samples].map(([name, s]) => {
        const sum = summarize(p === "p50" ? s.p50 : s.p99);
        return { series: name, value: sum.median, min: sum.min, max: sum.max };
      }),
    })),
  });
  return result;
}
