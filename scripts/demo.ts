/**
 * `bun run demo`: an embedded S3 backend (s3rver, bucket `demo`) holding a sample Parquet
 * file, s3proxy in front of it, one Polars query run through the proxy twice, then how to
 * point DuckDB, Polars, the aws cli and boto3 at it. Runs until Ctrl-C; `--once` exits
 * after the demo queries (the smoke test uses that).
 */
import pl from "nodejs-polars";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { startProxy, type Proxy } from "../src/app.ts";
import { resolveConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { UpstreamClient } from "../src/upstream/client.ts";

const BUCKET = "demo";
const KEY = "sales/2024.parquet";
const ROWS = 2_000_000;
const ROW_GROUP = 250_000;
const CATEGORIES = ["books", "games", "garden", "music", "outdoor", "tools", "toys", "video"];
/** s3rver accepts any key pair; the proxy signs backend requests with these and, in passthrough mode, checks clients sign with them too. */
const KEYS = { id: "S3RVER", secret: "S3RVER" };

const once = process.argv.includes("--once");
const log = createLogger("info", "pretty");
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
    id: pl.Series("id", Array.from({ length: ROWS }, (_, i) => i), pl.Int64),
    day: pl.Series("day", day).cast(pl.Date),
    category,
    qty,
    value,
  });
  await df.lazy().sinkParquet(path, { rowGroupSize: ROW_GROUP }).collect();
}

/** The demo query: revenue and units per category for orders of more than 50 units. */
function query(source: pl.LazyDataFrame) {
  return source
    .filter(pl.col("qty").gt(50))
    .groupBy("category")
    .agg(pl.col("value").sum().round(2).alias("revenue"), pl.col("qty").sum().alias("units"), pl.len().alias("orders"))
    .sort("category");
}

async function startBackend(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: join(dir, "s3rver"), configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = (await server.run()) as { port: number };
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => server.close() };
}

/** The proxy on PORT (default 3000), or on a free port when that one is taken. */
async function startDemoProxy(backendEndpoint: string): Promise<Proxy> {
  const env = { AWS_ACCESS_KEY_ID: KEYS.id, AWS_SECRET_ACCESS_KEY: KEYS.secret, AWS_EC2_METADATA_DISABLED: "true" };
  const start = (port: string) => startProxy(resolveConfig({ endpoint: backendEndpoint, host: "127.0.0.1", port }, env), env, log);
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

function instructions(endpoint: string): string {
  const hostPort = new URL(endpoint).host;
  return `
s3proxy is running at ${endpoint} in front of an embedded S3 backend (bucket "${BUCKET}", object "${KEY}").
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

async function main(): Promise<number> {
  const backend = await startBackend();
  const proxy = await startDemoProxy(backend.endpoint);
  const endpoint = `http://127.0.0.1:${proxy.server.port}`;
  const shutdown = async () => {
    await proxy.stop();
    await backend.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const local = join(dir, "sample.parquet");
    let t = performance.now();
    await writeSampleParquet(local);
    log.info(`generated ${KEY}: ${ROWS.toLocaleString("en")} rows in ${ROWS / ROW_GROUP} row groups, ${(Bun.file(local).size / 1024 ** 2).toFixed(1)} MiB (${ms(t)})`);
    t = performance.now();
    await upload(endpoint, local);
    log.info(`uploaded through the proxy to s3://${BUCKET}/${KEY} (${ms(t)})`);

    const cloudOptions = { aws_endpoint_url: endpoint, aws_access_key_id: KEYS.id, aws_secret_access_key: KEYS.secret, aws_region: "us-east-1", aws_allow_http: "true" };
    const expected = await query(pl.scanParquet(local)).collect();
    const results = [];
    for (const run of ["first", "second"]) {
      t = performance.now();
      // collect() is async: the query's HTTP requests are served by this same process.
      const result = await query(pl.scanParquet(`s3://${BUCKET}/${KEY}`, { cloudOptions })).collect();
      log.info(`Polars query through the proxy, ${run} run: ${ms(t)}`);
      results.push(result);
    }
    console.log(results[0]!.toString());
    const match = results.every((r) => r.frameEqual(expected));
    console.log(match ? "query results match: both runs through the proxy equal the query on the local file" : "query results DIFFER from the local file");
    console.log(instructions(endpoint));
    if (once || !match) {
      await shutdown();
      return match ? 0 : 1;
    }
    log.info("press Ctrl-C to stop");
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
    await shutdown();
    return 0;
  } catch (err) {
    await shutdown();
    throw err;
  }
}

function ms(since: number): string {
  return `${Math.round(performance.now() - since)} ms`;
}

process.exit(await main());
