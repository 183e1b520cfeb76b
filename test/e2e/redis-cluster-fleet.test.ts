/**
 * A fleet: three proxies sharing a real three-master Redis Cluster, the AWS SDK as the
 * client and a relay counting what reaches the backend. What one proxy fetched the others
 * serve with zero backend requests; a write through one is what the others serve at once;
 * a master killed mid-run costs only its share of hits (bytes stay exact), and once back it
 * is used again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { RedisTier } from "../../src/cache/redis-tier.ts";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { startCountingRelay, type CountingRelay } from "../support/counting-relay.ts";
import { hearing } from "../support/hearing.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";
import { startRedisCluster, type TestRedisCluster } from "../support/redis-cluster.ts";

const BLOCK = 64 * 1024;
let backend: Backend;
let relay: CountingRelay;
let cluster: TestRedisCluster;
let fleet: TestProxy[] = [];

beforeAll(async () => {
  backend = await startBackend();
  relay = startCountingRelay(backend.endpoint);
  cluster = await startRedisCluster();
  // Memory smaller than one object, so the later passes need the shared tier, not each proxy's memory.
  const flags = { "redis-cluster": cluster.seeds, "block-size": String(BLOCK), "cache-size": String(2 * BLOCK), prefetch: false };
  fleet = await Promise.all([0, 1, 2].map(() => startTestProxy({ ...backend, endpoint: relay.endpoint }, flags)));
});

afterAll(async () => {
  await Promise.all(fleet.map((p) => p.stop()));
  await cluster?.stop();
  await relay?.stop();
  await backend?.stop();
});

const client = (proxy: TestProxy): S3Client => sdkClient(proxy.endpoint, backend, { responseChecksumValidation: "WHEN_REQUIRED" });
const tierOf = (proxy: TestProxy) => proxy.cache!.tiers[0] as RedisTier;
const flushAll = () => Promise.all(fleet.map((p) => tierOf(p).flush()));

async function put(key: string, body: Uint8Array): Promise<void> {
  expect((await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body })).status).toBe(200);
}

async function getRange(proxy: TestProxy, key: string, start: number, end: number): Promise<Uint8Array> {
  const res = await client(proxy).send(new GetObjectCommand({ Bucket: backend.bucket, Key: key, Range: `bytes=${start}-${end}` }));
  return res.Body!.transformToByteArray();
}

/** Every block of `key`, one range per block, checked byte for byte. */
async function readAll(proxy: TestProxy, key: string, body: Uint8Array): Promise<void> {
  for (let s = 0; s < body.length; s += BLOCK) {
    const e = Math.min(body.length, s + BLOCK) - 1;
    expect(await getRange(proxy, key, s, e)).toEqual(body.subarray(s, e + 1));
  }
}

describe("three proxies sharing a Redis Cluster", () => {
  test("blocks read through proxy 1 are hits on proxies 2 and 3 with zero backend requests", async () => {
    expect(tierOf(fleet[0]!).name).toBe("redis-cluster");
    const key = "fleet/shared.bin";
    const body = randomBytes(12 * BLOCK + 17, 1);
    await put(key, body);
    await readAll(fleet[0]!, key, body);
    await flushAll();
    relay.reset();
    for (const proxy of fleet.slice(1)) await readAll(proxy, key, body);
    expect(relay.count()).toBe(0);
    for (const proxy of fleet.slice(1)) expect(tierOf(proxy).counters.hits).toBeGreaterThan(0);
  }, 60_000);

  test("a master killed mid-run: every read is byte-exact, only its share comes from the backend; back, it is used again", async () => {
    const key = "fleet/kill.bin";
    const body = randomBytes(24 * BLOCK, 2);
    await put(key, body);
    await readAll(fleet[0]!, key, body);
    await flushAll();
    relay.reset();
    const reads: Array<Promise<void>> = [];
    for (const [i, proxy] of fleet.entries()) {
      reads.push(readAll(proxy, key, body));
      if (i === 0) await cluster.kill(2); // while the first proxy's reads are under way
    }
    await Promise.all(reads);
    const fromBackend = relay.count((r) => r.method === "GET");
    expect(fromBackend).toBeGreaterThan(0); // the dead master's blocks
    expect(fromBackend).toBeLessThan(3 * 24); // the live masters' blocks were still hits

    await cluster.restart(2);
    // The revived master is empty: the next pass refills it, and the pass after is all hits.
    for (let pass = 0; pass < 50; pass++) {
      relay.reset();
      await readAll(fleet[1]!, key, body);
      await flushAll();
      if (relay.count() === 0) break;
    }
    relay.reset();
    for (const proxy of fleet) await readAll(proxy, key, body);
    expect(relay.count()).toBe(0);
  }, 90_000);

  test("PUT and DELETE through one proxy are what every other proxy serves once it has heard of them", async () => {
    const key = "fleet/overwritten.bin";
    const first = randomBytes(2 * BLOCK, 3);
    // A write publishes twice (before and after it is forwarded): the others have heard both.
    const through = async (writer: TestProxy, write: () => Promise<unknown>) => {
      const heard = hearing(fleet.filter((p) => p !== writer).map(tierOf));
      await write();
      await heard(2);
    };
    await through(fleet[0]!, () => client(fleet[0]!).send(new PutObjectCommand({ Bucket: backend.bucket, Key: key, Body: first })));
    for (const proxy of fleet) expect(await getRange(proxy, key, 0, 999)).toEqual(first.subarray(0, 1000));
    for (let round = 1; round <= 3; round++) {
      const next = randomBytes(2 * BLOCK, 10 + round);
      const writer = fleet[round % 3]!;
      await through(writer, () => client(writer).send(new PutObjectCommand({ Bucket: backend.bucket, Key: key, Body: next })));
      for (const proxy of fleet) expect(await getRange(proxy, key, 0, 999)).toEqual(next.subarray(0, 1000));
    }
    await through(fleet[1]!, () => client(fleet[1]!).send(new DeleteObjectCommand({ Bucket: backend.bucket, Key: key })));
    for (const proxy of fleet) expect(await getRange(proxy, key, 0, 99).catch((err: { name: string }) => err.name)).toBe("NoSuchKey");
  }, 60_000);
});
