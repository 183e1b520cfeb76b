/**
 * Metrics against a real backend: known requests through the proxy move exactly the
 * counters they should.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { StatusSnapshot } from "../../src/ops/metrics.ts";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { fillsSettled, metricValue, scrape } from "../support/prometheus.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

const MiB = 1024 ** 2;
const KEY = "data/obj.bin";
const body = randomBytes(6 * MiB, 7);

let backend: Backend;
let proxy: TestProxy;
let s3: S3Client;
const requestIds: string[] = [];

async function getRange(range: string, key = KEY): Promise<Uint8Array> {
  const out = await s3.send(new GetObjectCommand({ Bucket: backend.bucket, Key: key, Range: range }));
  requestIds.push(out.$metadata.requestId ?? "");
  return out.Body!.transformToByteArray();
}

beforeAll(async () => {
  backend = await startBackend();
  // 4 blocks of 1 MiB fit; ranges up to 1 MiB go through the cache.
  proxy = await startTestProxy(backend, { "cache-size": "4MiB", "block-size": "1MiB", prefetch: false });
  // Without checksum mode (the SDK's default asks for it, and the cache leaves such reads to the backend).
  s3 = new S3Client({
    endpoint: proxy.endpoint,
    region: backend.region,
    forcePathStyle: true,
    credentials: { accessKeyId: backend.accessKeyId, secretAccessKey: backend.secretAccessKey },
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const put = await s3.send(new PutObjectCommand({ Bucket: backend.bucket, Key: KEY, Body: body }));
  requestIds.push(put.$metadata.requestId ?? "");
});

afterAll(async () => {
  s3.destroy();
  await proxy.stop();
  await backend.stop();
});

describe("metrics after known requests", () => {
  test("requests, cache results, bytes, evictions, durations and top objects move as the requests dictate", async () => {
    expect(await getRange("bytes=0-1023")).toEqual(body.subarray(0, 1024)); // miss: block 0 fetched
    await fillsSettled(proxy.endpoint); // The miss was answered with its first KiB; the rest of the block may still be arriving.
    expect(await getRange("bytes=0-1023")).toEqual(body.subarray(0, 1024)); // hit
    expect(await getRange(`bytes=${MiB / 2}-${MiB + MiB / 2 - 1}`)).toEqual(body.subarray(MiB / 2, MiB + MiB / 2)); // partial: block 0 cached, block 1 fetched
    for (const block of [2, 3, 4]) await getRange(`bytes=${block * MiB}-${block * MiB + 9}`); // three misses; the fifth block evicts the oldest
    const missing = await s3.send(new GetObjectCommand({ Bucket: backend.bucket, Key: "no/such/key" })).catch((e) => e);
    expect(missing.name).toBe("NoSuchKey");
    await fillsSettled(proxy.endpoint);

    const m = await scrape(`${proxy.endpoint}/_s3proxy/metrics`);
    expect(metricValue(m, "s3proxy_requests_total", { operation: "PutObject", status: "200" })).toBe(1);
    expect(metricValue(m, "s3proxy_requests_total", { operation: "GetObject", status: "206" })).toBe(6);
    expect(metricValue(m, "s3proxy_requests_total", { operation: "GetObject", status: "404" })).toBe(1);
    expect(metricValue(m, "s3proxy_cache_requests_total", { result: "hit" })).toBe(1);
    expect(metricValue(m, "s3proxy_cache_requests_total", { result: "miss" })).toBe(4);
    expect(metricValue(m, "s3proxy_cache_requests_total", { result: "partial" })).toBe(1);
    // The hit's 1 KiB, plus the cached half of the partial read.
    expect(metricValue(m, "s3proxy_bytes_from_cache_total")).toBe(1024 + MiB / 2);
    // Five blocks were fetched for the cache; the PutObject answer and the 404 body were forwarded.
    expect(metricValue(m, "s3proxy_bytes_from_upstream_total")).toBeGreaterThanOrEqual(5 * MiB);
    expect(metricValue(m, "s3proxy_cache_limit_bytes")).toBe(4 * MiB);
    expect(metricValue(m, "s3proxy_cache_used_bytes")).toBe(4 * MiB);
    expect(metricValue(m, "s3proxy_cache_evictions_total")).toBe(1);
    expect(metricValue(m, "s3proxy_request_duration_seconds_count", { operation: "GetObject" })).toBe(7);
    expect(metricValue(m, "s3proxy_request_duration_seconds_bucket", { operation: "GetObject", le: "+Inf" })).toBe(7);
    // Only forwarded requests have an upstream duration: the PutObject and the 404 GET.
    expect(metricValue(m, "s3proxy_upstream_duration_seconds_count", { operation: "PutObject" })).toBe(1);
    expect(metricValue(m, "s3proxy_upstream_duration_seconds_count", { operation: "GetObject" })).toBe(1);
    // The scrape itself is the one request in flight on the main port.
    expect(metricValue(m, "s3proxy_in_flight_requests")).toBe(1);
    expect(metricValue(m, "s3proxy_upstream_errors_total")).toBe(0);
    // One eviction drops far less than a quarter of the cache size (at least 16 MiB): no collection yet.
    expect(metricValue(m, "s3proxy_memory_collections_total")).toBe(0);
    expect(metricValue(m, "s3proxy_resident_memory_bytes")).toBeGreaterThan(4 * MiB);
    // The cache's 4 MiB of extents are Blobs the engine accounts for in its heap.
    expect(metricValue(m, "s3proxy_js_memory_bytes", { kind: "heap" })).toBeGreaterThanOrEqual(4 * MiB);
    expect(metricValue(m, "s3proxy_js_memory_bytes", { kind: "heap" })).toBeLessThan(metricValue(m, "s3proxy_resident_memory_bytes"));
    expect(m.some((s) => s.name === "s3proxy_js_memory_bytes" && s.labels.kind === "array_buffers")).toBe(true);

    const status = (await (await fetch(`${proxy.endpoint}/_s3proxy/status.json`)).json()) as StatusSnapshot;
    expect(status.topObjects[0]).toEqual({ object: `${backend.bucket}/${KEY}`, hits: 2 });
    expect(status.requests).toBe(8);
  });

  test("every S3 response carries an x-amz-request-id, each one distinct", () => {
    expect(requestIds).toHaveLength(7);
    for (const id of requestIds) expect(id).toMatch(/^[0-9A-F]{16}$/);
    expect(new Set(requestIds).size).toBe(requestIds.length);
  });

  test("auth failures are counted by code, as reported by authentication", async () => {
    proxy.metrics.recordAuthFailure("SignatureDoesNotMatch");
    proxy.metrics.recordAuthFailure("SignatureDoesNotMatch");
    proxy.metrics.recordAuthFailure("InvalidAccessKeyId");
    const m = await scrape(`${proxy.endpoint}/_s3proxy/metrics`);
    expect(metricValue(m, "s3proxy_auth_failures_total", { code: "SignatureDoesNotMatch" })).toBe(2);
    expect(metricValue(m, "s3proxy_auth_failures_total", { code: "InvalidAccessKeyId" })).toBe(1);
  });

  test("a backend that cannot be reached counts as an upstream error of kind unreachable", async () => {
    const dead = await startBackend();
    const lonely = await startTestProxy(dead, { cache: false });
    await dead.stop();
    const client = sdkClient(lonely.endpoint, dead);
    try {
      const err = await client.send(new GetObjectCommand({ Bucket: dead.bucket, Key: "k" })).catch((e) => e);
      expect(err.$metadata.httpStatusCode).toBe(502);
      expect(err.$metadata.requestId).toMatch(/^[0-9A-F]{16}$/); // the proxy's own errors carry one too
      const m = await scrape(`${lonely.endpoint}/_s3proxy/metrics`);
      expect(metricValue(m, "s3proxy_upstream_errors_total", { kind: "unreachable" })).toBeGreaterThanOrEqual(1);
      expect(metricValue(m, "s3proxy_requests_total", { operation: "GetObject", status: "502" })).toBeGreaterThanOrEqual(1);
      // With the cache off there is nothing held and no limit.
      expect(metricValue(m, "s3proxy_cache_limit_bytes")).toBe(0);
    } finally {
      client.destroy();
      await lonely.stop();
    }
  });

  test("a cache that churns through 16 MiB gets a full collection, counted with its time", async () => {
    const before = metricValue(await scrape(`${proxy.endpoint}/_s3proxy/metrics`), "s3proxy_memory_collections_total");
    // 6 blocks through a 4-block cache, four times over: between 16 and 25 MiB evicted, so one collection.
    for (let pass = 0; pass < 4; pass++) {
      for (let block = 0; block < 6; block++) await getRange(`bytes=${block * MiB}-${block * MiB + 9}`);
      await fillsSettled(proxy.endpoint);
    }
    // The pacer looks every 50 ms: wait for it, within a bound.
    let m = await scrape(`${proxy.endpoint}/_s3proxy/metrics`);
    for (let i = 0; i < 100 && metricValue(m, "s3proxy_memory_collections_total") === before; i++) {
      await Bun.sleep(20);
      m = await scrape(`${proxy.endpoint}/_s3proxy/metrics`);
    }
    expect(metricValue(m, "s3proxy_memory_collections_total")).toBe(before + 1);
    expect(metricValue(m, "s3proxy_memory_collection_seconds_total")).toBeGreaterThan(0);
  });
});
