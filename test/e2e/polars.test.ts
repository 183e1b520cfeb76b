/**
 * A real analytics engine through the proxy: nodejs-polars' scanParquet reads through Rust
 * object_store (the client Python Polars uses): HEAD, footer, then column-chunk ranges.
 * The result must equal reading the same file directly, and the second run must be served
 * from the cache.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import pl from "nodejs-polars";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBackend, type Backend } from "../support/backend.ts";
import { startCountingRelay, type CountingRelay } from "../support/counting-relay.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

let backend: Backend;
let relay: CountingRelay;
let proxy: TestProxy;
let dir: string;
const KEY = "polars/trips.parquet";

beforeAll(async () => {
  backend = await startBackend();
  relay = startCountingRelay(backend.endpoint);
  proxy = await startTestProxy({ ...backend, endpoint: relay.endpoint }, { "block-size": "256KiB" });
  dir = mkdtempSync(join(tmpdir(), "polars-"));
  const n = 300_000;
  const df = pl.DataFrame({
    id: Array.from({ length: n }, (_, i) => i),
    city: Array.from({ length: n }, (_, i) => ["paris", "berlin", "lima", "osaka"][i % 4]!),
    fare: Array.from({ length: n }, (_, i) => ((i * 7919) % 10_000) / 100),
  });
  const path = join(dir, "trips.parquet");
  df.writeParquet(path, { compression: "snappy", rowGroupSize: 50_000 } as never);
  const put = await fetch(`${backend.endpoint}/${backend.bucket}/${KEY}`, { method: "PUT", body: readFileSync(path) });
  expect(put.status).toBe(200);
});

afterAll(async () => {
  await proxy?.stop();
  await relay?.stop();
  await backend?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function query(endpoint: string) {
  return pl
    .scanParquet(`s3://${backend.bucket}/${KEY}`, {
      cloudOptions: {
        aws_endpoint_url: endpoint,
        aws_access_key_id: backend.accessKeyId,
        aws_secret_access_key: backend.secretAccessKey,
        aws_region: backend.region,
        aws_allow_http: "true",
      },
    } as never)
    .filter(pl.col("fare").gt(50))
    .groupBy("city")
    .agg(pl.col("fare").sum().alias("total"), pl.col("id").count().alias("n"))
    .sort("city")
    .collect();
}

test("a Polars query through the proxy equals the direct one, and its second run needs no backend request", async () => {
  const direct = await query(backend.endpoint);
  relay.reset();
  const cold = await query(proxy.endpoint);
  const coldRequests = relay.count();
  const stats = proxy.cache!.stats;
  const afterCold = { hits: stats.hits, misses: stats.misses, partial: stats.partialHits };
  relay.reset();
  const warm = await query(proxy.endpoint);
  const warmRequests = relay.count();
  expect(cold.toRecords()).toEqual(direct.toRecords());
  expect(warm.toRecords()).toEqual(direct.toRecords());
  expect(coldRequests).toBeGreaterThan(0);
  expect(warmRequests).toBe(0);
  expect(stats.hits).toBeGreaterThan(afterCold.hits);
  console.log(
    `polars: cold run ${coldRequests} backend requests (hits ${afterCold.hits}, misses ${afterCold.misses}, partial ${afterCold.partial}); warm run ${warmRequests} backend requests (hits +${stats.hits - afterCold.hits}, misses +${stats.misses - afterCold.misses})`,
  );
});
