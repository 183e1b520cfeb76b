/**
 * The query workload shared by the `query` and `block-size` scenarios: three Polars
 * queries over the Parquet dataset, read from local files or through an S3 endpoint, and a
 * runner that measures them through each path with the relay counting backend requests.
 */
import pl from "nodejs-polars";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchContext } from "../config.ts";
import { ensureDataset, TS_STEP, uploadDataset, type Dataset } from "../dataset.ts";
import { startNginx } from "../nginx.ts";
import { startOurs, startRelay, type Peer, type Relay } from "../peers.ts";
import { formatBytes } from "../stats.ts";

export interface Query {
  name: string;
  description: string;
  run(frame: pl.LazyDataFrame, dataset: Dataset): pl.LazyDataFrame;
}

export const QUERIES: Query[] = [
  {
    name: "filter",
    description: "time-window filter (2% of rows) with predicate pushdown, 4 columns",
    run(frame, ds) {
      const from = Math.floor(ds.rows * 0.37) * TS_STEP;
      const to = from + Math.floor(ds.rows * 0.02) * TS_STEP;
      return frame.filter(pl.col("ts").gtEq(from).and(pl.col("ts").lt(to))).select("id", "ts", "fare", "tip");
    },
  },
  {
    name: "aggregate",
    description: "group by city: sum, mean, max over 3 float columns of every row",
    run: (frame) => frame.groupBy("city").agg(pl.col("fare").sum().alias("fare"), pl.col("tip").mean().alias("tip"), pl.col("distance").max().alias("distance"), pl.len().alias("n")).sort("city"),
  },
  {
    name: "lookup",
    description: "one row by id (all columns): statistics prune to one row group",
    run: (frame, ds) => frame.filter(pl.col("id").eq(Math.floor(ds.rows * 0.61))),
  },
];

export type Source = { kind: "local" } | { kind: "s3"; endpoint: string };

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
  /** Two of ours sharing a Redis tier: the first runs the query cold, the second runs it again. */
  | { label: string; kind: "ours-redis"; blockSize: number; redisUrl: string; flush: () => Promise<unknown> };

/** Per path label (ours: "<label> cold", "<label> warm" and "<label> warm again"; nginx: "<label> cold" once and "<label> warm") and query name. */
export type Results = Map<string, Map<string, Measurement>>;

export interface Workload {
  dataset: Dataset;
  relay: Relay;
  stop(): Promise<void>;
}

export async function prepareWorkload(ctx: BenchContext): Promise<Workload> {
  const t0 = performance.now();
  const local = ensureDataset(ctx.config.query.dataset);
  const dataset = await uploadDataset(ctx.backend, local);
  ctx.log(`dataset: ${dataset.names.length} files, ${formatBytes(dataset.bytes)}, ${dataset.rows} rows, ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const relay = await startRelay(ctx.backend.endpoint, ctx.config.query.delayMs);
  return { dataset, relay, stop: () => relay.stop() };
}

export async function measureQueries(ctx: BenchContext, w: Workload, paths: Path[]): Promise<Results> {
  const results: Results = new Map();
  const bucket = ctx.backend.bucket;
  const record = async (label: string, query: Query, source: Source) => {
    await w.relay.reset();
    const t0 = performance.now();
    const df = await query.run(scan(w.dataset, source, bucket), w.dataset).collect();
    const ms = performance.now() - t0;
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
      for (const query of QUERIES) {
        for (const path of paths) {
          if (path.kind === "local") await record(path.label, query, { kind: "local" });
          else if (path.kind === "direct") await record(path.label, query, { kind: "s3", endpoint: w.relay.endpoint });
          else if (path.kind === "ours") {
            // A fresh process per query and repetition: "cold" means nothing cached.
            const ours = await startOurs(w.relay.endpoint, ctx.backend, ["--block-size", String(path.blockSize)]);
            try {
              await record(`${path.label} cold`, query, { kind: "s3", endpoint: ours.endpoint });
              // Let background work (footer prefetch) settle; record() drops what it cost.
              await Bun.sleep(200);
              await record(`${path.label} warm`, query, { kind: "s3", endpoint: ours.endpoint });
              // A third run: shows whether the first repeat still paid for joining blocks (src/cache/block-cache.ts).
              await record(`${path.label} warm again`, query, { kind: "s3", endpoint: ours.endpoint });
            } finally {
              await ours.stop();
            }
          } else if (path.kind === "ours-disk") {
            const dir = mkdtempSync(join(tmpdir(), "bench-disk-tier-"));
            const flags = ["--block-size", String(path.blockSize), "--cache-dir", dir];
            try {
              const first = await startOurs(w.relay.endpoint, ctx.backend, flags);
              try {
                await record(`${path.label} cold`, query, { kind: "s3", endpoint: first.endpoint });
                await Bun.sleep(500); // let the disk writes land
              } finally {
                await first.stop();
              }
              const restarted = await startOurs(w.relay.endpoint, ctx.backend, flags);
              try {
                await record(`${path.label} after restart`, query, { kind: "s3", endpoint: restarted.endpoint });
              } finally {
                await restarted.stop();
              }
            } finally {
              rmSync(dir, { recursive: true, force: true });
            }
          } else if (path.kind === "ours-redis") {
            await path.flush(); // "cold" means nothing in Redis either
            const flags = ["--block-size", String(path.blockSize), "--redis-url", path.redisUrl];
            const one = await startOurs(w.relay.endpoint, ctx.backend, flags);
            const two = await startOurs(w.relay.endpoint, ctx.backend, flags, "ours (second)");
            try {
              await record(`${path.label} cold`, query, { kind: "s3", endpoint: one.endpoint });
              await Bun.sleep(500); // let the Redis writes land
              await record(`${path.label} second proxy`, query, { kind: "s3", endpoint: two.endpoint });
            } finally {
              await Promise.all([one.stop(), two.stop()]);
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
export function wrongAnswers(results: Results, floor: string): string[] {
  const wrong: string[] = [];
  for (const query of QUERIES) {
    const expected = [...(results.get(floor)?.get(query.name)?.answers ?? [])][0];
    for (const [label, byQuery] of results) {
      const answers = byQuery.get(query.name)?.answers;
      if (answers && (answers.size !== 1 || [...answers][0] !== expected)) wrong.push(`${label} ${query.name}`);
    }
  }
  return wrong;
}
