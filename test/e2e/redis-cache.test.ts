/**
 * The Redis tier through two proxies sharing one real redis-server, with the AWS SDK as the
 * client and a relay counting what reaches the backend: what one proxy fetched the other
 * serves without the backend, a write through one is seen through the other once heard, and
 * killing Redis mid-run costs clients nothing but cache hits.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RedisTier } from "../../src/cache/redis-tier.ts";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { startCountingRelay, type CountingRelay } from "../support/counting-relay.ts";
import { parquetBytes, polarsSumOfSquares } from "../support/polars.ts";
import { hearing } from "../support/hearing.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";
import { startRedis, type TestRedis } from "../support/redis.ts";

const BLOCK = 64 * 1024;
let backend: Backend;
let relay: CountingRelay;
let redis: TestRedis;
let one: TestProxy;
let two: TestProxy;
const objects = new Map<string, Uint8Array>();

beforeAll(async () => {
  backend = await startBackend();
  relay = startCountingRelay(backend.endpoint);
  redis = await startRedis();
  for (let i = 0; i < 4; i++) {
    const key = `shared/object-${i}.bin`;
    const body = randomBytes(4 * BLOCK + 999 * i + 1, 200 + i);
    expect((await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body })).status).toBe(200);
    objects.set(key, body);
  }
  const flags = { "redis-url": redis.url, "block-size": String(BLOCK), prefetch: false };
  one = await startTestProxy({ ...backend, endpoint: relay.endpoint }, flags);
  two = await startTestProxy({ ...backend, endpoint: relay.endpoint }, flags);
});

afterAll(async () => {
  await one?.stop();
  await two?.stop();
  await redis?.stop();
  await relay?.stop();
  await backend?.stop();
});

/** The AWS SDK without response checksums (`x-amz-checksum-mode` answers are per-request and never cached). */
const client = (proxy: TestProxy): S3Client => sdkClient(proxy.endpoint, backend, { responseChecksumValidation: "WHEN_REQUIRED" });
const redisOf = (proxy: TestProxy) => proxy.cache!.tiers[0] as RedisTier;

async function getRange(proxy: TestProxy, key: string, start: number, end: number): Promise<Uint8Array> {
  const res = await client(proxy).send(new GetObjectCommand({ Bucket: backend.bucket, Key: key, Range: `bytes=${start}-${end}` }));
  return res.Body!.transformToByteArray();
}

function rangesOf(size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let start = 0; start < size; start += BLOCK - 777) out.push([start, Math.min(size - 1, start + BLOCK + 100)]);
  return out;
}

describe("two proxies sharing one Redis", () => {
  test("blocks and metadata fetched through proxy 1 are served by proxy 2 with zero upstream requests", async () => {
    const key = "shared/object-0.bin";
    const body = objects.get(key)!;
    for (const [s, e] of rangesOf(body.length)) expect(await getRange(one, key, s, e)).toEqual(body.subarray(s, e + 1));
    await redisOf(one).flush();

    relay.reset();
    for (const [s, e] of rangesOf(body.length)) expect(await getRange(two, key, s, e)).toEqual(body.subarray(s, e + 1));
    const head = await client(two).send(new HeadObjectCommand({ Bucket: backend.bucket, Key: key }));
    expect(head.ContentLength).toBe(body.length);
    expect(relay.count()).toBe(0);
    expect(redisOf(two).counters.hits).toBeGreaterThan(0);
  }, 30_000);

  test("a Polars query proxy 1 ran is answered by proxy 2 from Redis with zero backend requests", async () => {
    const key = "shared/squares.parquet";
    const rows = 100_000;
    expect((await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body: parquetBytes(rows) })).status).toBe(200);
    const want = Array.from({ length: rows }, (_, i) => i * i).reduce((a, b) => a + b, 0);
    expect(await polarsSumOfSquares(one.endpoint, backend, backend.bucket, key)).toBe(want);
    await redisOf(one).flush();
    relay.reset();
    expect(await polarsSumOfSquares(two.endpoint, backend, backend.bucket, key)).toBe(want);
    expect(relay.count()).toBe(0);
  }, 60_000);

  test("an overwrite through proxy 1 is what proxy 2 serves once it has heard of it", async () => {
    const key = "shared/object-1.bin";
    const old = objects.get(key)!;
    expect(await getRange(two, key, 0, 999)).toEqual(old.subarray(0, 1000)); // proxy 2 now knows the old version
    for (let round = 1; round <= 5; round++) {
      const next = randomBytes(old.length, 900 + round);
      // Published before and after the write is forwarded: proxy 2 has heard both.
      const heard = hearing([redisOf(two)]);
      await client(one).send(new PutObjectCommand({ Bucket: backend.bucket, Key: key, Body: next }));
      await heard(2);
      expect(await getRange(two, key, 0, 999)).toEqual(next.subarray(0, 1000));
      const head = await client(two).send(new HeadObjectCommand({ Bucket: backend.bucket, Key: key }));
      expect(head.ETag).toBe(`"${new Bun.CryptoHasher("md5").update(next).digest("hex")}"`);
    }
  }, 30_000);

  test("DeleteObjects through proxy 1 is what proxy 2 answers (404) once it has heard of it", async () => {
    const key = "shared/to-delete.bin";
    const body = randomBytes(BLOCK + 5, 55);
    await client(one).send(new PutObjectCommand({ Bucket: backend.bucket, Key: key, Body: body }));
    expect(await getRange(two, key, 0, 99)).toEqual(body.subarray(0, 100));
    expect(await getRange(one, key, 0, 99)).toEqual(body.subarray(0, 100));
    await redisOf(one).flush();
    const heard = hearing([redisOf(two)]);
    await client(one).send(new DeleteObjectsCommand({ Bucket: backend.bucket, Delete: { Objects: [{ Key: key }] } }));
    await heard(2);
    for (const proxy of [two, one]) {
      expect(await getRange(proxy, key, 0, 99).catch((err: { name: string }) => err.name)).toBe("NoSuchKey");
    }
  }, 30_000);

  test("with disk and Redis, what Redis supplied is written back to disk: restarted without Redis, zero upstream requests", async () => {
    const key = "shared/object-2.bin";
    const body = objects.get(key)!;
    for (const [s, e] of rangesOf(body.length)) expect(await getRange(one, key, s, e)).toEqual(body.subarray(s, e + 1));
    await redisOf(one).flush();

    const dir = mkdtempSync(join(tmpdir(), "redis-disk-"));
    try {
      relay.reset();
      const both = await startTestProxy({ ...backend, endpoint: relay.endpoint }, { "redis-url": redis.url, "cache-dir": dir, "block-size": String(BLOCK), prefetch: false });
      expect(both.cache!.tiers.map((t) => t.name)).toEqual(["disk", "redis"]);
      for (const [s, e] of rangesOf(body.length)) expect(await getRange(both, key, s, e)).toEqual(body.subarray(s, e + 1));
      expect(both.cache!.tiers[1]!.counters.hits).toBeGreaterThan(0);
      await both.stop();

      const diskOnly = await startTestProxy({ ...backend, endpoint: relay.endpoint }, { "cache-dir": dir, "block-size": String(BLOCK), prefetch: false });
      for (const [s, e] of rangesOf(body.length)) expect(await getRange(diskOnly, key, s, e)).toEqual(body.subarray(s, e + 1));
      expect(diskOnly.cache!.tiers[0]!.counters.hits).toBeGreaterThan(0);
      await diskOnly.stop();
      expect(relay.count()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test("Redis killed mid-run: every client request still succeeds with the right bytes", async () => {
    const reads: Array<Promise<void>> = [];
    let n = 0;
    const warm = [...objects].filter(([k]) => k !== "shared/object-1.bin");
    for (let pass = 0; pass < 3; pass++) {
      for (const [key, body] of warm) {
        for (const [s, e] of rangesOf(body.length)) {
          const proxy = n++ % 2 === 0 ? one : two;
          reads.push(getRange(proxy, key, s, e).then((got) => expect(got).toEqual(body.subarray(s, e + 1))));
          if (n === 5) await redis.kill(); // in the first pass, while these reads still need Redis
        }
      }
      await Promise.all(reads.splice(0));
    }
    // Bytes neither proxy has in memory: with Redis gone they come from the backend.
    const fresh = randomBytes(3 * BLOCK, 77);
    await client(one).send(new PutObjectCommand({ Bucket: backend.bucket, Key: "shared/after-kill.bin", Body: fresh }));
    expect(await getRange(two, "shared/after-kill.bin", 0, fresh.length - 1)).toEqual(fresh);
    expect(redisOf(one).counters.failures + redisOf(two).counters.failures).toBeGreaterThan(0);
    // The outage is a metric too.
    const metrics = await (await fetch(`${two.endpoint}/_s3proxy/metrics`)).text();
    const failures = /s3proxy_cache_tier_events_total\{(?=[^}]*tier="redis")(?=[^}]*event="failures")[^}]*\} (\d+)/.exec(metrics);
    expect(Number(failures?.[1])).toBe(redisOf(two).counters.failures);
  }, 30_000);
});
