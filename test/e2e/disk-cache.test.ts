/**
 * The disk tier through the proxy, with the AWS SDK as the client and a relay counting what
 * reaches the backend: a restart serves from disk with zero upstream requests, a proxy
 * killed with SIGKILL mid-fill never leaves bytes that are served wrong, a damaged block
 * file is refetched rather than served, and the directory stays within its size.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DiskTier } from "../../src/cache/disk-tier.ts";
import { BLOCK_HEADER } from "../../src/cache/disk-tier.ts";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { startCountingRelay, type CountingRelay } from "../support/counting-relay.ts";
import { spawnProxy } from "../support/spawn.ts";
import { parquetBytes, polarsSumOfSquares } from "../support/polars.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

const BLOCK = 64 * 1024;
let backend: Backend;
let relay: CountingRelay;
const objects = new Map<string, Uint8Array>();
const dirs: string[] = [];

beforeAll(async () => {
  backend = await startBackend();
  relay = startCountingRelay(backend.endpoint);
  for (let i = 0; i < 6; i++) {
    const key = `disk/object-${i}.bin`;
    const body = randomBytes(5 * BLOCK + 1000 * i + 7, 100 + i);
    const res = await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body });
    expect(res.status).toBe(200);
    objects.set(key, body);
  }
});

afterAll(async () => {
  await relay?.stop();
  await backend?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "disk-cache-"));
  dirs.push(dir);
  return dir;
}

const viaRelay = () => ({ ...backend, endpoint: relay.endpoint });

function startProxy(dir: string, flags: Record<string, string | boolean> = {}): Promise<TestProxy> {
  return startTestProxy(viaRelay(), { "cache-dir": dir, "block-size": String(BLOCK), prefetch: false, ...flags });
}

/**
 * The AWS SDK, told not to ask for response checksums: `x-amz-checksum-mode` makes an
 * answer per-request, so the cache (rightly) forwards such GETs.
 */
function client(endpoint: string): S3Client {
  return sdkClient(endpoint, backend, { responseChecksumValidation: "WHEN_REQUIRED" });
}

async function getRange(endpoint: string, key: string, start: number, end: number): Promise<Uint8Array> {
  const res = await client(endpoint).send(new GetObjectCommand({ Bucket: backend.bucket, Key: key, Range: `bytes=${start}-${end}` }));
  return res.Body!.transformToByteArray();
}

/** Ranges that together touch every block of an object, some crossing block boundaries. */
function rangesOf(size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let start = 0; start < size; start += BLOCK - 333) out.push([start, Math.min(size - 1, start + BLOCK + 500)]);
  return out;
}

async function readAll(endpoint: string): Promise<void> {
  for (const [key, body] of objects) {
    for (const [start, end] of rangesOf(body.length)) expect(await getRange(endpoint, key, start, end)).toEqual(body.subarray(start, end + 1));
  }
}

const diskOf = (proxy: TestProxy) => proxy.cache!.tiers[0] as DiskTier;

function blockFiles(dir: string): string[] {
  const root = join(dir, "blocks");
  return readdirSync(root).flatMap((sub) => readdirSync(join(root, sub)).map((f) => join(root, sub, f)));
}

describe("disk tier through the proxy", () => {
  test("a restarted proxy serves every byte from disk with zero upstream requests", async () => {
    const dir = freshDir();
    const first = await startProxy(dir);
    await readAll(first.endpoint);
    await first.stop();

    relay.reset();
    const second = await startProxy(dir);
    await readAll(second.endpoint);
    for (const key of objects.keys()) {
      const head = await client(second.endpoint).send(new HeadObjectCommand({ Bucket: backend.bucket, Key: key }));
      expect(head.ContentLength).toBe(objects.get(key)!.length);
    }
    expect(relay.count()).toBe(0);
    expect(diskOf(second).counters.hits).toBeGreaterThan(0);
    // Blocks from disk are cache hits: no backend request was made.
    const last = [...objects.keys()].at(-1)!;
    await second.stop();
    const third = await startProxy(dir);
    const res = await fetch(`${third.endpoint}/${backend.bucket}/${last}`, { headers: { range: "bytes=100-200" } });
    expect(res.headers.get("x-cache")).toBe("HIT");
    expect(await res.bytes()).toEqual(new Uint8Array(objects.get(last)!.subarray(100, 201)));
    expect(relay.count()).toBe(0);
    await third.stop();
  }, 60_000);

  test("after the meta TTL, a restarted proxy revalidates with a HEAD and still takes the bytes from disk", async () => {
    const dir = freshDir();
    const first = await startProxy(dir, { "meta-ttl": "300ms" });
    await readAll(first.endpoint);
    await first.stop();
    await Bun.sleep(400); // let the stored metadata expire

    relay.reset();
    const second = await startProxy(dir, { "meta-ttl": "300ms" });
    await readAll(second.endpoint);
    expect(relay.count((r) => r.method === "GET")).toBe(0);
    expect(relay.count((r) => r.method === "HEAD")).toBeGreaterThan(0);
    await second.stop();
  }, 60_000);

  test("a block file with a flipped byte is refetched from the backend, never served", async () => {
    const dir = freshDir();
    const first = await startProxy(dir);
    await readAll(first.endpoint);
    await first.stop();
    const files = blockFiles(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = readFileSync(file);
      bytes[BLOCK_HEADER + ((bytes.length - BLOCK_HEADER) >> 1)]! ^= 0x40;
      writeFileSync(file, bytes);
    }

    relay.reset();
    const second = await startProxy(dir);
    await readAll(second.endpoint);
    expect(relay.count((r) => r.method === "GET")).toBeGreaterThan(0);
    expect(diskOf(second).counters.corrupt).toBe(files.length);
    await second.stop();
  }, 60_000);

  test("blocks memory no longer holds are answered from their files: byte-exact, zero backend requests, memory left as it was", async () => {
    const dir = freshDir();
    // Memory for 16 of the objects' 33 blocks, and ranges of up to two blocks (the longest --cache-size allows is a quarter of it).
    const proxy = await startProxy(dir, { "cache-size": String(16 * BLOCK) });
    await readAll(proxy.endpoint);
    await diskOf(proxy).flush();
    const memory = proxy.cache!.store;
    const before = { evictions: memory.evictions, hits: diskOf(proxy).counters.hits };

    relay.reset();
    // Every range again, within one block (a file slice as the body) and across blocks (slices read and joined).
    await readAll(proxy.endpoint);
    for (const [key, body] of objects) {
      for (let start = 17; start < body.length; start += BLOCK) {
        const end = Math.min(body.length - 1, start + 4000);
        const res = await fetch(`${proxy.endpoint}/${backend.bucket}/${key}`, { headers: { range: `bytes=${start}-${end}` } });
        expect(res.status).toBe(206);
        expect(res.headers.get("content-length")).toBe(String(end - start + 1));
        expect(res.headers.get("content-type")).toBe("binary/octet-stream"); // as the backend stored it, not Bun's default for files
        expect(res.headers.get("content-disposition")).toBeNull();
        expect(await res.bytes()).toEqual(new Uint8Array(body.subarray(start, end + 1)));
      }
    }
    expect(relay.count()).toBe(0);
    expect(diskOf(proxy).counters.hits).toBeGreaterThan(before.hits);
    // Hits from files are not copied back into memory, so they evicted nothing there.
    expect(memory.evictions).toBe(before.evictions);
    await proxy.stop();
  }, 60_000);

  test("filling more than --disk-cache-size keeps the directory within it", async () => {
    const dir = freshDir();
    const proxy = await startProxy(dir, { "disk-cache-size": "1MiB", "cache-size": "1MiB" });
    await readAll(proxy.endpoint);
    await diskOf(proxy).flush();
    const onDisk = blockFiles(dir).reduce((n, f) => n + statSync(f).size, 0);
    expect(onDisk).toBeLessThanOrEqual(1024 ** 2);
    expect(diskOf(proxy).bytesHeld).toBeLessThanOrEqual(1024 ** 2);
    expect(diskOf(proxy).counters.evictions).toBeGreaterThan(0);
    await proxy.stop();
  }, 60_000);

  test("a Polars query run again after a restart is answered from disk with zero backend requests", async () => {
    const key = "disk/squares.parquet";
    const rows = 100_000;
    expect((await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body: parquetBytes(rows) })).status).toBe(200);
    const want = Array.from({ length: rows }, (_, i) => i * i).reduce((a, b) => a + b, 0);
    const dir = freshDir();
    const first = await startTestProxy(viaRelay(), { "cache-dir": dir, "block-size": "64KiB" });
    expect(await polarsSumOfSquares(first.endpoint, backend, backend.bucket, key)).toBe(want);
    await first.stop();

    relay.reset();
    const second = await startTestProxy(viaRelay(), { "cache-dir": dir, "block-size": "64KiB" });
    expect(await polarsSumOfSquares(second.endpoint, backend, backend.bucket, key)).toBe(want);
    expect(relay.count()).toBe(0);
    await second.stop();
  }, 60_000);

  test("DeleteObjects through the proxy is seen at once, though the disk still holds the deleted key's metadata", async () => {
    const dir = freshDir();
    const proxy = await startProxy(dir);
    const key = "disk/to-delete.bin";
    const body = randomBytes(2 * BLOCK, 5);
    expect((await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body })).status).toBe(200);
    expect(await getRange(proxy.endpoint, key, 0, 99)).toEqual(body.subarray(0, 100));
    await diskOf(proxy).flush();
    await client(proxy.endpoint).send(new DeleteObjectsCommand({ Bucket: backend.bucket, Delete: { Objects: [{ Key: key }] } }));
    const after = await getRange(proxy.endpoint, key, 0, 99).catch((err: { name: string }) => err.name);
    expect(after).toBe("NoSuchKey");
    await proxy.stop();
  }, 30_000);

  test("a proxy killed with SIGKILL during fills leaves a directory whose every served byte is right", async () => {
    const dir = freshDir();
    const args = ["--endpoint", relay.endpoint, "--cache-dir", dir, "--block-size", String(BLOCK), "--no-prefetch"];
    const env = { AWS_ACCESS_KEY_ID: backend.accessKeyId, AWS_SECRET_ACCESS_KEY: backend.secretAccessKey };
    const first = await spawnProxy(args, env);
    // Many fills in flight at once; kill the process as soon as the first block file has landed.
    const reads = [...objects].flatMap(([key, body]) =>
      rangesOf(body.length).map(([s, e]) =>
        getRange(first.endpoint, key, s, e).then(
          () => true,
          () => false,
        ),
      ),
    );
    const blocksDir = join(dir, "blocks");
    while (readdirSync(blocksDir).every((sub) => readdirSync(join(blocksDir, sub)).length === 0)) await Bun.sleep(1);
    first.process.kill(9);
    await first.process.exited;
    const outcomes = await Promise.all(reads);
    expect(outcomes).toContain(false); // killed with reads (and their fills) still in flight
    expect(blockFiles(dir).length).toBeGreaterThan(0); // and after some fills had landed

    const second = await spawnProxy(args, env);
    await readAll(second.endpoint);
    // And once more, now that the second run filled in what the first left out.
    await readAll(second.endpoint);

    // While it runs, a second process on the same directory refuses to start, naming it.
    const refused = await spawnProxy(args, env).then(
      async (p) => {
        await p.stop();
        return "started";
      },
      (err: Error) => err.message,
    );
    expect(refused).toContain(`--cache-dir ${dir} is locked by running process ${second.process.pid}`);
    await second.stop();
  }, 60_000);
});

test("an object overwritten while the proxy was down is read afresh, not answered 500, when its metadata on disk is still within the TTL", async () => {
  const dir = freshDir();
  const key = "disk/overwritten-while-down.bin";
  const before = randomBytes(4 * BLOCK, 7);
  const after = randomBytes(4 * BLOCK, 8);
  const put = (body: Uint8Array) => fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body });
  expect((await put(before)).status).toBe(200);
  const first = await startProxy(dir, { "meta-ttl": "1h" });
  const read = (p: TestProxy, range: string) => fetch(`${p.endpoint}/${backend.bucket}/${key}`, { headers: { range } });
  expect((await read(first, "bytes=0-99")).status).toBe(206);
  await first.cache!.tiers[0]!.flush();
  await first.stop();
  expect((await put(after)).status).toBe(200);
  const second = await startProxy(dir, { "meta-ttl": "1h" });
  try {
    // Block 2 was never cached: its fill is pinned to the old ETag, gets 412, and the metadata on disk must go too.
    const res = await read(second, `bytes=${2 * BLOCK}-${2 * BLOCK + 99}`);
    expect(res.status).toBe(206);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(after.subarray(2 * BLOCK, 2 * BLOCK + 100));
  } finally {
    await second.stop();
  }
});
