/**
 * `bun run demo`: an embedded S3 backend (s3rver, bucket `demo`) behind a link shaped like
 * S3 (the bench's latency relay: first byte +25 ms, 80 MiB/s per connection), holding a
 * sample Parquet file. The same Polars queries run three ways: direct to the backend, through
 * s3proxy cold, and warm; a table compares their time and what each cost the backend. Then
 * how to point DuckDB, Polars, the aws cli and boto3 at the proxy, which runs until Ctrl-C or
 * SIGTERM. `--once` exits after the table (the smoke test uses that); `--verbose` shows the
 * proxy's access log.
 */
import pl from "nodejs-polars";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { startProxy, type Proxy as RunningProxy } from "../src/app.ts";
import { resolveConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { UpstreamClient } from "../src/upstream/client.ts";
import { startLatencyRelay, type LatencyRelay } from "./bench/latency-relay.ts";
import { MiB } from "./bench/stats.ts";
import { comparisonTable, formatMs, formatNumber, renderTable, type Run } from "./demo-table.ts";

const BUCKET = "demo";
const KEY = "sales/2024.parquet";
const ROWS = 2_000_000;
const ROW_GROUP = 250_000;
const CATEGORIES = ["books", "games", "garden", "music", "outdoor", "tools", "toys", "video"];
/** s3rver accepts any key pair; the proxy signs backend requests with these and, in passthrough mode, checks clients sign with them too. */
const KEYS = { id: "S3RVER", secret: "S3RVER" };
/** S3 within a region: ~25 ms to the first byte, and one connection carries ~80 MiB/s. */
const LINK = { delayMs: 25, connectionBandwidth: 80 * MiB };

const args = process.argv.slice(2);
const once = args.includes("--once");
const verbose = args.includes("--verbose");
const log = createLogger("info", "pretty");
// The proxy's access log would bury the table: shown with --verbose only.
const proxyLog = verbose ? log : createLogger("warn", "pretty");
const dir = mkdtempSync(join(tmpdir(), "s3proxy-demo-"));

/** A few columns, deterministic pseudo-random values, written in several row groups. */
async function writeSampleParquet(path: string): Promise<void> {
  const value = new Float64Array(ROWS);
  const qty = new Int32Array(ROWS);
  const day = new Int32Array(ROWS);
  const category = new Array<string>(ROWS);
  let x = 12345;
  for (let i = 0; i < ROWS; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    value[i] = ((x >>> 0) / 2 ** 32) * 1000;
    qty[i] = (x >>> 8) % 100;
    category[i] = CATEGORIES[(x >>> 3) & 7]!;
    day[i] = 19723 + (i % 366); // days since 1970: the year 2024
  }
  const df = pl.DataFrame({
    id: pl.Series(
      "id",
      Array.from({ length: ROWS }, (_, i) => i),
      pl.Int64,
    ),
    day: pl.Series("day", day).cast(pl.Date),
    category,
    qty,
    value,
  });
  await df.lazy().sinkParquet(path, { rowGroupSize: ROW_GROUP }).collect();
}

/** The demo's queries: an aggregate over every row group, and a lookup the row-group statistics prune to one. */
const QUERIES: Record<string, (source: pl.LazyDataFrame) => pl.LazyDataFrame> = {
  "revenue per category, orders over 50 units": (source) => source.filter(pl.col("qty").gt(50)).groupBy("category").agg(pl.col("value").sum().round(2).alias("revenue"), pl.col("qty").sum().alias("units"), pl.len().alias("orders")).sort("category"),
  "100 orders by id": (source) => source.filter(pl.col("id").gtEq(1_234_500).and(pl.col("id").lt(1_234_600))).sort("id"),
};

async function startBackend(): Promise<{ port: number; stop(): Promise<void> }> {
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: join(dir, "s3rver"), configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = (await server.run()) as { port: number };
  return { port, stop: () => server.close() };
}

/** The proxy on PORT (default 3000), or on a free port when that one is taken. */
async function startDemoProxy(backendEndpoint: string): Promise<RunningProxy> {
  const env = { AWS_ACCESS_KEY_ID: KEYS.id, AWS_SECRET_ACCESS_KEY: KEYS.secret, AWS_EC2_METADATA_DISABLED: "true" };
  const start = (port: string) => startProxy(resolveConfig({ endpoint: backendEndpoint, host: "127.0.0.1", port }, env), env, proxyLog);
  const wanted = process.env.PORT ?? "3000";
  try {
    return await start(wanted);
  } catch (err) {
    if (!(err instanceof Error && /EADDRINUSE|in use/i.test(err.message))) throw err;
    log.warn(`port ${wanted} is taken; using a free port instead`);
    return start("0");
  }
}

async function upload(endpoint: string, path: string): Promise<void> {
  // Through the proxy itself, so the upload is part of the demo too, signed like any client's.
  const client = new UpstreamClient({ endpoint: new URL(endpoint), region: "us-east-1", credentials: async () => ({ accessKeyId: KEYS.id, secretAccessKey: KEYS.secret }) });
  const body = await Bun.file(path).bytes();
  const res = await client.send({ method: "PUT", bucket: BUCKET, key: KEY, query: [], headers: new Headers({ "content-length": String(body.length) }), body });
  if (!res.ok) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
}

/** Every query once through `endpoint`: how long they took, and whether each result equals the one on the local file. */
async function runQueries(endpoint: string, expected: pl.DataFrame[]): Promise<{ ms: number; match: boolean }> {
  const cloudOptions = { aws_endpoint_url: endpoint, aws_access_key_id: KEYS.id, aws_secret_access_key: KEYS.secret, aws_region: "us-east-1", aws_allow_http: "true" };
  const t = performance.now();
  let match = true;
  for (const [i, q] of Object.values(QUERIES).entries()) {
    // collect() is async: the query's HTTP requests are served by this same process.
    const result = await q(pl.scanParquet(`s3://${BUCKET}/${KEY}`, { cloudOptions })).collect();
    match &&= result.frameEqual(expected[i]!);
  }
  return { ms: performance.now() - t, match };
}

/**
 * A miss is answered once its own bytes are in; the rest of its block may still be arriving.
 * Those bytes belong to the cold run, so the count for the next run starts after them.
 */
async function fillsArrived(proxy: RunningProxy): Promise<void> {
  for (let i = 0; i < 500 && (proxy.cache?.store.bytesReserved ?? 0) > 0; i++) await Bun.sleep(2);
}

/** The aggregate's result with readable numbers (Polars prints large floats as 6.103273e7). */
function revenueTable(df: pl.DataFrame): string {
  const rows = df.toRecords().map((r) => [String(r.category), formatNumber(Number(r.revenue), 2), formatNumber(Number(r.units)), formatNumber(Number(r.orders))]);
  return renderTable([["category", "revenue", "units", "orders"], ...rows], ["left", "right", "right", "right"]);
}

function instructions(endpoint: string): string {
  const hostPort = new URL(endpoint).host;
  const where = once ? `Run \`bun run demo\` (without --once) to keep the proxy running; clients then point at it like this.` : `s3proxy is running at ${endpoint} in front of the embedded S3 backend (bucket "${BUCKET}", object "${KEY}").`;
  return `
${where}
The proxy runs in passthrough mode: clients sign with the backend's own key, ${KEYS.id}/${KEYS.secret}, as below.

DuckDB (httpfs):
  CREATE SECRET demo (TYPE s3, KEY_ID '${KEYS.id}', SECRET '${KEYS.secret}', ENDPOINT '${hostPort}', URL_STYLE 'path', USE_SSL false, REGION 'us-east-1');
  SELECT category, sum(value) FROM 's3://${BUCKET}/${KEY}' WHERE qty > 50 GROUP BY ALL ORDER BY 1;

Polars (Python):
  pl.scan_parquet("s3://${BUCKET}/${KEY}", storage_options={"aws_endpoint_url": "${endpoint}", "aws_access_key_id": "${KEYS.id}",
      "aws_secret_access_key": "${KEYS.secret}", "aws_region": "us-east-1", "aws_allow_http": "true"}).collect()
Polars (Node): pl.scanParquet("s3://${BUCKET}/${KEY}", { cloudOptions: { aws_endpoint_url: "${endpoint}", aws_access_key_id: "${KEYS.id}", aws_secret_access_key: "${KEYS.secret}", aws_region: "us-east-1", aws_allow_http: "true" } })

aws cli:
  AWS_ACCESS_KEY_ID=${KEYS.id} AWS_SECRET_ACCESS_KEY=${KEYS.secret} AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url ${endpoint} s3 ls s3://${BUCKET}/ --recursive

boto3:
  boto3.client("s3", endpoint_url="${endpoint}", aws_access_key_id="${KEYS.id}", aws_secret_access_key="${KEYS.secret}",
      region_name="us-east-1", config=botocore.config.Config(s3={"addressing_style": "path"})).list_objects_v2(Bucket="${BUCKET}")
`;
}

let backend: Awaited<ReturnType<typeof startBackend>> | undefined;
let relay: LatencyRelay | undefined;
let proxy: RunningProxy | undefined;
let stopping: Promise<void> | undefined;
/** Stop everything and remove the temp directory; once, however many times it is asked. */
function shutdown(): Promise<void> {
  return (stopping ??= (async () => {
    await proxy?.stop();
    relay?.stop();
    await backend?.stop();
    rmSync(dir, { recursive: true, force: true });
  })());
}

// SIGTERM (`kill`) is handled like Ctrl-C. Under `bun run demo` a Ctrl-C reaches this process
// twice (bun forwards it too): shutdown() runs once either way.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void shutdown().then(() => process.exit(0)));

async function main(): Promise<number> {
  backend = await startBackend();
  relay = startLatencyRelay({ targetHost: "127.0.0.1", targetPort: backend.port, ...LINK });
  const direct = `http://127.0.0.1:${relay.port}`;
  proxy = await startDemoProxy(direct);
  const endpoint = `http://127.0.0.1:${proxy.server.port}`;
  try {
    const local = join(dir, "sample.parquet");
    let t = performance.now();
    await writeSampleParquet(local);
    const size = Bun.file(local).size;
    log.info(`generated ${KEY}: ${formatNumber(ROWS)} rows in ${ROWS / ROW_GROUP} row groups, ${(size / MiB).toFixed(1)} MiB (${formatMs(performance.now() - t)})`);
    t = performance.now();
    await upload(endpoint, local);
    log.info(`uploaded through the proxy to s3://${BUCKET}/${KEY} (${formatMs(performance.now() - t)})`);

    t = performance.now();
    const expected = await Promise.all(Object.values(QUERIES).map((q) => q(pl.scanParquet(local)).collect()));
    const localMs = performance.now() - t;
    const runs: Run[] = [];
    let match = true;
    for (const [label, via] of [
      ["direct to the backend", direct],
      ["through s3proxy, cold", endpoint],
      ["through s3proxy, warm", endpoint],
    ] as const) {
      await fillsArrived(proxy);
      relay.reset();
      const run = await runQueries(via, expected);
      const link = relay.stats();
      runs.push({ label, ms: run.ms, backendRequests: link.requests, backendBytes: link.bytesFromBackend });
      match &&= run.match;
    }
    const names = Object.keys(QUERIES);
    console.log(`\n${names.length} Polars queries over s3://${BUCKET}/${KEY} (${(size / MiB).toFixed(1)} MiB), run three ways:`);
    for (const [i, name] of names.entries()) console.log(`  ${i + 1}. ${name}`);
    console.log(`Backend link shaped like S3: first byte +${LINK.delayMs} ms, ${LINK.connectionBandwidth / MiB} MiB/s per connection.\n`);
    console.log(comparisonTable(runs));
    console.log(`\n  (on the local file, with no network at all: ${formatMs(localMs)}, Polars' own work)\n`);
    console.log(revenueTable(expected[0]!) + "\n");
    console.log(match ? "query results match: every run equals the same query on the local file" : "query results DIFFER from the local file");
    console.log(instructions(endpoint));
    if (once || !match) {
      await shutdown();
      return match ? 0 : 1;
    }
    log.info("press Ctrl-C to stop");
    return await new Promise<never>(() => {}); // the signal handlers end the process
  } catch (err) {
    if (stopping) return new Promise<never>(() => {}); // a signal stopped the proxy under a query: the handler exits
    await shutdown();
    throw err;
  }
}

process.exit(await main());
