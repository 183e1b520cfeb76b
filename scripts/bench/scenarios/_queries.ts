/**
 * The query workload shared by the `query`, `pushdown`, `block-size` and `fleet` scenarios:
 * a set of Polars queries over a Parquet dataset, read from local files or through an S3
 * endpoint, a runner that measures them through each path with the relay (the S3-shaped
 * link) counting backend requests, and the tables every query scenario reports.
 */
import pl from "nodejs-polars";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchContext } from "../config.ts";
import { ensureDataset, uploadDataset, type Dataset, type DatasetShape } from "../dataset.ts";
import { startNginx } from "../nginx.ts";
import { startOurs, startRelay, stopAll, type Peer, type Relay } from "../peers.ts";
import { formatBytes, formatRatio, formatSummary, ratio, summarize, type Summary } from "../stats.ts";
import type { BarChart, Table } from "../types.ts";
import type { Query } from "./_query-sets.ts";
import { fillsSettled, tierWritesSettled } from "../../../test/support/prometheus.ts";

/** `settle`: the endpoint is ours, whose fills may still be arriving after it answered. */
export type Source = { kind: "local" } | { kind: "s3"; endpoint: string; settle?: boolean };

function scan(ds: Dataset, source: Source, bucket: string): pl.LazyDataFrame {
  const frames = ds.names.map((name, i) =>
    source.kind === "local"
      ? pl.scanParquet(join(ds.dir, name))
      : pl.scanParquet(`s3://${bucket}/${ds.keys[i]}`, {
          cloudOptions: { aws_endpoint_url: source.endpoint, aws_access_key_id: "S3RVER", aws_secret_access_key: "S3RVER", aws_region: "us-east-1", aws_allow_http: "true" },
        }),
  );
  return pl.concat(frames);
}

export interface Measurement {
  ms: number[];
  requests: number[];
  bytes: number[];
  /** A digest of the answer, to check every path returns the same rows. */
  answers: Set<string>;
}

export type Path =
  | { label: string; kind: "local" }
  | { label: string; kind: "direct" }
  | { label: string; kind: "ours"; blockSize: number }
  | { label: string; kind: "nginx"; blockSize: number }
  /** Ours with a disk tier: a cold run, then the query again from a restarted process on the same directory. */
  | { label: string; kind: "ours-disk"; blockSize: number }
  /**
   * Several of ours sharing a tier (`tierFlags`: one Redis, a Redis Cluster), emptied by `flush`
   * first: the first proxy runs the query cold, then each next one runs it again. `proxies`
   * names each proxy's row after the label ("<label> <proxy>").
   */
  | { label: string; kind: "ours-shared"; blockSize: number; tierFlags: string[]; proxies: string[]; flush: () => Promise<unknown> };

/** Local files, direct, ours and (when installed) nginx: the paths every query scenario compares. */
export function basePaths(ctx: BenchContext, blockSize: number): Path[] {
  const paths: Path[] = [
    { label: "local", kind: "local" },
    { label: "direct", kind: "direct" },
    { label: "ours", kind: "ours", blockSize },
  ];
  if (ctx.has.nginx) paths.push({ label: "nginx", kind: "nginx", blockSize });
  return paths;
}

/** Per path label (ours: "<label> cold", "<label> warm" and "<label> warm again"; nginx: "<label> cold" once and "<label> warm"; a shared tier: "<label> <proxy>") and query name. */
export type Results = Map<string, Map<string, Measurement>>;

export interface Workload {
  dataset: Dataset;
  queries: Query[];
  relay: Relay;
  stop(): Promise<void>;
}

export async function prepareWorkload(ctx: BenchContext, shape: DatasetShape, queries: Query[]): Promise<Workload> {
  const t0 = performance.now();
  const local = await ensureDataset(shape);
  const dataset = await uploadDataset(ctx.backend, local, `dataset-${local.files}x${local.rowsPerFile}`);
  ctx.log(`dataset: ${dataset.names.length} files, ${formatBytes(dataset.bytes)}, ${dataset.rows} rows, ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const relay = await startRelay(ctx.backend.endpoint, ctx.config.link);
  return { dataset, queries, relay, stop: () => relay.stop() };
}

export async function measureQueries(ctx: BenchContext, w: Workload, paths: Path[]): Promise<Results> {
  const results: Results = new Map();
  const bucket = ctx.backend.bucket;
  const record = async (label: string, query: Query, source: Source) => {
    await w.relay.reset();
    const t0 = performance.now();
    const df = await query.run(scan(w.dataset, source, bucket), w.dataset).collect();
    const ms = performance.now() - t0;
    // What a query cost the backend includes the block tails ours still fetches after answering.
    if (source.kind === "s3" && source.settle) await fillsSettled(source.endpoint);
    const upstream = await w.relay.reset();
    const byQuery = results.get(label) ?? new Map<string, Measurement>();
    const m = byQuery.get(query.name) ?? { ms: [], requests: [], bytes: [], answers: new Set<string>() };
    m.ms.push(ms);
    m.requests.push(upstream.requests);
    m.bytes.push(upstream.bytesFromBackend);
    // Float sums depend on the order threads add them in: compare to 9 significant digits.
    m.answers.add(`${df.height}:${JSON.stringify(df.sum().toRecords(), (_, v) => (typeof v === "number" ? Number(v.toPrecision(9)) : v))}`);
    byQuery.set(query.name, m);
    results.set(label, byQuery);
    ctx.log(`query ${label} ${query.name}: ${ms.toFixed(0)} ms, ${upstream.requests} backend requests, ${formatBytes(upstream.bytesFromBackend)}`);
  };
  const nginxPeers = new Map<string, Peer>();
  try {
    for (let rep = 0; rep < ctx.config.reps; rep++) {
      for (const query of w.queries) {
        for (const path of paths) {
          if (path.kind === "local") await record(path.label, query, { kind: "local" });
          else if (path.kind === "direct") await record(path.label, query, { kind: "s3", endpoint: w.relay.endpoint });
          else if (path.kind === "ours") {
            // A fresh process per query and repetition: "cold" means nothing cached.
            const ours = await startOurs(w.relay.endpoint, ctx.backend, ["--block-size", String(path.blockSize)]);
            try {
              await record(`${path.label} cold`, query, { kind: "s3", endpoint: ours.endpoint, settle: true });
              // Let background work (footer prefetch) settle; record() drops what it cost.
              await Bun.sleep(200);
              await record(`${path.label} warm`, query, { kind: "s3", endpoint: ours.endpoint, settle: true });
              // A third run: shows whether the first repeat still paid for joining blocks (src/cache/block-cache.ts).
              await record(`${path.label} warm again`, query, { kind: "s3", endpoint: ours.endpoint, settle: true });
            } finally {
              await ours.stop();
            }
          } else if (path.kind === "ours-disk") {
            const dir = mkdtempSync(join(tmpdir(), "bench-disk-tier-"));
            const flags = ["--block-size", String(path.blockSize), "--cache-dir", dir];
            try {
              const first = await startOurs(w.relay.endpoint, ctx.backend, flags);
              try {
                await record(`${path.label} cold`, query, { kind: "s3", endpoint: first.endpoint, settle: true });
                await Bun.sleep(500); // let the disk writes land
              } finally {
                await first.stop();
              }
              const restarted = await startOurs(w.relay.endpoint, ctx.backend, flags);
              try {
                await record(`${path.label} after restart`, query, { kind: "s3", endpoint: restarted.endpoint, settle: true });
              } finally {
                await restarted.stop();
              }
            } finally {
              rmSync(dir, { recursive: true, force: true });
            }
          } else if (path.kind === "ours-shared") {
            await path.flush(); // "cold" means nothing in the shared tier either
            const flags = ["--block-size", String(path.blockSize), ...path.tierFlags];
            const fleet = await Promise.all(path.proxies.map((name) => startOurs(w.relay.endpoint, ctx.backend, flags, `ours (${path.label} ${name})`)));
            try {
              for (const [i, proxy] of fleet.entries()) {
                // Otherwise this proxy fetches from the backend what the one before is still writing to the tier.
                if (i > 0) await tierWritesSettled(fleet[i - 1]!.endpoint);
                await record(`${path.label} ${path.proxies[i]}`, query, { kind: "s3", endpoint: proxy.endpoint, settle: true });
              }
            } finally {
              await stopAll(...fleet);
            }
          } else {
            let nginx = nginxPeers.get(path.label);
            if (!nginx) nginxPeers.set(path.label, (nginx = await startNginx(w.relay.endpoint, path.blockSize)));
            if (rep === 0) await record(`${path.label} cold`, query, { kind: "s3", endpoint: nginx.endpoint });
            await record(`${path.label} warm`, query, { kind: "s3", endpoint: nginx.endpoint });
          }
        }
      }
    }
  } finally {
    await Promise.all([...nginxPeers.values()].map((p) => p.stop()));
  }
  return results;
}

/** Paths whose answers differ from the local floor's, per query. */
export function wrongAnswers(results: Results, floor: string, queries: Query[]): string[] {
  const wrong: string[] = [];
  for (const query of queries) {
    const expected = [...(results.get(floor)?.get(query.name)?.answers ?? [])][0];
    for (const [label, byQuery] of results) {
      const answers = byQuery.get(query.name)?.answers;
      if (answers && (answers.size !== 1 || [...answers][0] !== expected)) wrong.push(`${label} ${query.name}`);
    }
  }
  return wrong;
}

/** One figure of one path and query, over the repetitions. */
export function figure(results: Results, label: string, query: string, f: "ms" | "requests" | "bytes"): Summary {
  return summarize(results.get(label)?.get(query)?.[f] ?? []);
}

/** The sum over `queries` of one path's median wall times, ms. */
export function totalMs(results: Results, label: string, queries: Query[]): number {
  return queries.reduce((sum, q) => sum + figure(results, label, q.name, "ms").median, 0);
}

/** Wall time per path, and backend requests and bytes per path (counted at the relay). */
export function measureTables(results: Results, queries: Query[]): Table[] {
  const labels = [...results.keys()];
  return [
    {
      caption: "Wall time per query, ms",
      columns: ["path", ...queries.map((q) => q.name)],
      rows: labels.map((l) => [l, ...queries.map((q) => formatSummary(figure(results, l, q.name, "ms"), 0))]),
    },
    {
      caption: "Backend requests (and bytes) per query, counted at the relay, median",
      columns: ["path", ...queries.map((q) => q.name)],
      rows: labels.filter((l) => l !== "local").map((l) => [l, ...queries.map((q) => `${figure(results, l, q.name, "requests").median} (${formatBytes(figure(results, l, q.name, "bytes").median)})`)]),
    },
  ];
}

/** `[of, to]`: a column of the ratio table, the median wall time of path `of` ÷ that of path `to`; `title` defaults to "of ÷ to". */
export type RatioColumn = [of: string, to: string, title?: string];

/** Per query, ratios of two paths' median wall times (same run). */
export function ratioTable(results: Results, queries: Query[], columns: RatioColumn[]): Table {
  const ms = (label: string, q: string) => figure(results, label, q, "ms").median;
  return {
    caption: "Ratios (same run)",
    columns: ["query", ...columns.map(([of, to, title]) => title ?? `${of} ÷ ${to}`)],
    rows: queries.map((q) => [q.name, ...columns.map(([of, to]) => formatRatio(ratio(ms(of, q.name), ms(to, q.name))))]),
  };
}

/** The tables of the `query` and `pushdown` scenarios: the measurements, and ours against local, direct and nginx. */
export function queryTables(results: Results, queries: Query[]): Table[] {
  return [
    ...measureTables(results, queries),
    ratioTable(results, queries, [
      ["ours warm", "local"],
      ["direct", "ours warm", "direct ÷ ours warm (speedup)"],
      ["ours cold", "direct"],
      ["ours warm", "nginx warm"],
    ]),
  ];
}

/** Wall time per query and path, one bar group per query. */
export function queryChart(results: Results, queries: Query[], file: string, title: string): BarChart {
  const labels = [...results.keys()];
  return {
    kind: "bars",
    file,
    title: `${title} (median, whisker = min–max)`,
    unit: "ms",
    groups: queries.map((q) => ({
      label: q.name,
      bars: labels.map((l) => {
        const s = figure(results, l, q.name, "ms");
        return { series: l, value: s.median, min: s.min, max: s.max };
      }),
    })),
  };
}
