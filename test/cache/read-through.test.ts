/**
 * The cache end to end in front of a real backend, with a relay counting every request that
 * reaches the backend: byte-exactness over random ranges, zero-upstream repeats,
 * coalescing, consistency after overwrites, conditionals and bypass rules.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes } from "../support/clients.ts";
import { startCountingRelay, type CountingRelay } from "../support/counting-relay.ts";
import { fillsSettled } from "../support/prometheus.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

const BLOCK = 64 * 1024;
let backend: Backend;
let relay: CountingRelay;
let proxy: TestProxy;
const objects = new Map<string, Uint8Array>();

async function putDirect(key: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body, headers });
  expect(res.status).toBe(200);
  objects.set(key, body);
}

function get(key: string, headers: Record<string, string> = {}, method = "GET"): Promise<Response> {
  return fetch(`${proxy.endpoint}/${backend.bucket}/${key}`, { method, headers });
}

const forKey = (key: string) => (r: { path: string }) => r.path.endsWith("/" + key);

beforeAll(async () => {
  backend = await startBackend();
  relay = startCountingRelay(backend.endpoint);
  proxy = await startTestProxy({ ...backend, endpoint: relay.endpoint }, { "block-size": String(BLOCK), "cache-size": "64MiB", prefetch: false, "meta-ttl": "1h" });
  const sizes: Record<string, number> = { empty: 0, one: 1, "block-minus": BLOCK - 1, block: BLOCK, "block-plus": BLOCK + 1, several: 5 * BLOCK + 123 };
  for (const [name, size] of Object.entries(sizes)) await putDirect(`sizes/${name}`, randomBytes(size, size + 3));
  // s3rver never answers a ranged GET of an empty object (S3 answers 416): let the proxy learn
  // that object's size with a HEAD, and keep it for the whole test, so it answers 416 itself.
  expect((await get("sizes/empty", {}, "HEAD")).headers.get("content-length")).toBe("0");
});

afterAll(async () => {
  await proxy?.stop();
  await relay?.stop();
  await backend?.stop();
});

/** What a correct S3 answers for a Range header, computed from the known bytes. */
function expected(body: Uint8Array, range: string | undefined): { status: number; bytes?: Uint8Array; contentRange?: string } {
  const size = body.length;
  if (range === undefined) return { status: 200, bytes: body };
  const m = /^bytes=(\d*)-(\d*)$/.exec(range)!;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return { status: 416, contentRange: `bytes */${size}` };
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (start >= size) return { status: 416, contentRange: `bytes */${size}` };
  }
  return { status: 206, bytes: body.subarray(start, end + 1), contentRange: `bytes ${start}-${end}/${size}` };
}

describe("byte-exactness", () => {
  test("random ranges of every form over awkward sizes match the known bytes, status and Content-Range", async () => {
    const keys = [...objects.keys()].filter((k) => k.startsWith("sizes/"));
    const rangeArb = fc.oneof(
      fc.tuple(fc.nat(6 * BLOCK), fc.nat(3 * BLOCK)).map(([a, n]) => `bytes=${a}-${a + n}`),
      fc.nat(6 * BLOCK).map((a) => `bytes=${a}-`),
      fc.nat(6 * BLOCK).map((n) => `bytes=-${n}`),
      fc.constantFrom("bytes=0-0", `bytes=${BLOCK - 1}-${BLOCK}`, `bytes=${BLOCK}-${2 * BLOCK - 1}`, "bytes=-1", "bytes=0-"),
      fc.constant(undefined),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keys), rangeArb, async (key, range) => {
        const body = objects.get(key)!;
        const want = expected(body, range);
        const res = await get(key, range ? { range } : {});
        const got = new Uint8Array(await res.arrayBuffer());
        expect(res.status).toBe(want.status);
        if (want.contentRange) expect(res.headers.get("content-range")).toBe(want.contentRange);
        if (want.bytes) {
          expect(Number(res.headers.get("content-length"))).toBe(want.bytes.length);
          expect(Buffer.compare(got, want.bytes)).toBe(0);
          expect(res.headers.get("etag")).toBeTruthy();
        }
      }),
      { numRuns: Number(process.env.S3PROXY_PROPERTY_RUNS ?? 1500) },
    );
  });

  test("cached answers carry the same object headers as the backend's", async () => {
    const key = "headers/meta.bin";
    const body = randomBytes(3 * BLOCK, 5);
    await putDirect(key, body, { "content-type": "application/x-parquet", "x-amz-meta-team": "data", "cache-control": "max-age=60", "content-disposition": "inline" });
    const direct = await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { headers: { range: "bytes=10-99" } });
    await direct.arrayBuffer();
    await (await get(key, { range: "bytes=10-99" })).arrayBuffer();
    await fillsSettled(proxy.endpoint);
    const cached = await get(key, { range: "bytes=10-99" });
    await cached.arrayBuffer();
    expect(cached.headers.get("x-cache")).toBe("HIT");
    for (const h of ["etag", "last-modified", "content-type", "x-amz-meta-team", "cache-control", "content-disposition", "content-range", "content-length"]) {
      expect([h, cached.headers.get(h)]).toEqual([h, direct.headers.get(h)]);
    }
  });
});

describe("upstream requests saved", () => {
  test("a repeated HEAD and a repeated range are served with zero upstream requests", async () => {
    const key = "repeat/obj.bin";
    await putDirect(key, randomBytes(4 * BLOCK, 9));
    const head1 = await get(key, {}, "HEAD");
    expect(head1.headers.get("content-length")).toBe(String(4 * BLOCK));
    await (await get(key, { range: "bytes=100-70000" })).arrayBuffer();
    await fillsSettled(proxy.endpoint);
    const before = relay.count(forKey(key));
    for (let i = 0; i < 5; i++) {
      const h = await get(key, {}, "HEAD");
      expect(h.headers.get("x-cache")).toBe("HIT");
      expect(h.headers.get("content-length")).toBe(String(4 * BLOCK));
      const r = await get(key, { range: "bytes=100-70000" });
      expect(r.headers.get("x-cache")).toBe("HIT");
      expect(Buffer.compare(new Uint8Array(await r.arrayBuffer()), objects.get(key)!.subarray(100, 70001))).toBe(0);
    }
    expect(relay.count(forKey(key))).toBe(before);
  });

  test("50 concurrent identical cold range GETs cause one upstream GET", async () => {
    const key = "coalesce/cold.bin";
    await putDirect(key, randomBytes(8 * BLOCK, 21));
    const range = `bytes=${BLOCK + 5}-${3 * BLOCK + 7}`;
    const answers = await Promise.all(Array.from({ length: 50 }, () => get(key, { range }).then(async (r) => ({ bytes: new Uint8Array(await r.arrayBuffer()), cache: r.headers.get("x-cache") }))));
    for (const a of answers) expect(Buffer.compare(a.bytes, objects.get(key)!.subarray(BLOCK + 5, 3 * BLOCK + 8))).toBe(0);
    // The one request that asked the backend is the MISS; the others cost it nothing: HIT.
    expect(answers.filter((a) => a.cache === "MISS")).toHaveLength(1);
    expect(answers.filter((a) => a.cache === "HIT")).toHaveLength(49);
    expect(relay.count((r) => forKey(key)(r) && r.method === "GET")).toBe(1);
    expect(relay.count((r) => forKey(key)(r) && r.method === "HEAD")).toBe(0);
  });

  test("a range spanning cached and missing blocks fetches only the missing run (PARTIAL)", async () => {
    const key = "partial/obj.bin";
    await putDirect(key, randomBytes(6 * BLOCK, 33));
    await (await get(key, { range: `bytes=0-${BLOCK - 1}` })).arrayBuffer();
    relay.reset();
    const res = await get(key, { range: `bytes=10-${3 * BLOCK - 1}` });
    expect(Buffer.compare(new Uint8Array(await res.arrayBuffer()), objects.get(key)!.subarray(10, 3 * BLOCK))).toBe(0);
    expect(res.headers.get("x-cache")).toBe("PARTIAL");
    const gets = relay.seen.filter((r) => forKey(key)(r) && r.method === "GET");
    expect(gets.map((g) => g.range)).toEqual([`bytes=${BLOCK}-${3 * BLOCK - 1}`]);
    expect(gets[0]!.ifMatch).toBeTruthy();
  });

  test("a small object read whole is cached whole", async () => {
    const key = "whole/small.txt";
    await putDirect(key, new TextEncoder().encode("tiny object"));
    expect(await (await get(key)).text()).toBe("tiny object");
    relay.reset();
    const again = await get(key, { range: "bytes=0-3" });
    expect(await again.text()).toBe("tiny");
    expect(again.headers.get("x-cache")).toBe("HIT");
    expect(relay.count()).toBe(0);
  });

  test("a 404 is remembered for the negative TTL", async () => {
    const r1 = await get("missing/key");
    expect(r1.status).toBe(404);
    const text = await r1.text();
    expect(text).toContain("NoSuchKey");
    relay.reset();
    const r2 = await get("missing/key");
    expect(r2.status).toBe(404);
    expect(await r2.text()).toBe(text);
    expect((await get("missing/key", {}, "HEAD")).status).toBe(404);
    expect(relay.count()).toBe(0);
  });

  test("a suffix range of a missing key gets the backend's 404 with its XML body", async () => {
    const res = await get("missing/other", { range: "bytes=-100" });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("<Code>NoSuchKey</Code>");
  });

  test("a suffix range of an unknown object costs one backend GET of its tail, which the next suffix read finds cached", async () => {
    const key = "tail/unknown.bin";
    await putDirect(key, randomBytes(6 * BLOCK + 99, 31));
    relay.reset();
    const res = await get(key, { range: "bytes=-5000" });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${6 * BLOCK + 99 - 5000}-${6 * BLOCK + 98}/${6 * BLOCK + 99}`);
    expect(Buffer.compare(new Uint8Array(await res.arrayBuffer()), objects.get(key)!.subarray(-5000))).toBe(0);
    await fillsSettled(proxy.endpoint);
    expect(relay.seen.filter(forKey(key)).map((r) => `${r.method} ${r.range}`)).toEqual([`GET bytes=-${5000 + BLOCK}`]);
    const again = await get(key, { range: `bytes=-${BLOCK}` });
    expect(again.headers.get("x-cache")).toBe("HIT");
    expect(Buffer.compare(new Uint8Array(await again.arrayBuffer()), objects.get(key)!.subarray(-BLOCK))).toBe(0);
    expect(relay.count(forKey(key))).toBe(1);
  });

  test("the HEAD of a Parquet file is one backend GET of its tail: the HEAD gets the object's headers, and the footer read after it costs the backend nothing", async () => {
    const parquet = await startTestProxy({ ...backend, endpoint: relay.endpoint }, { "block-size": String(BLOCK), "cache-size": "64MiB", "meta-ttl": "1h" });
    try {
      const key = "tail/table.parquet";
      // Not a real Parquet file: without a valid trailer only the last 64 KiB are prefetched, as a reader asks for first.
      await putDirect(key, randomBytes(9 * BLOCK + 5, 32), { "content-type": "application/vnd.apache.parquet" });
      const size = 9 * BLOCK + 5;
      const direct = await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "HEAD" });
      relay.reset();
      const head = await fetch(`${parquet.endpoint}/${backend.bucket}/${key}`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe("");
      for (const name of ["content-length", "content-type", "etag", "last-modified"]) expect(head.headers.get(name)).toBe(direct.headers.get(name));
      const footer = await fetch(`${parquet.endpoint}/${backend.bucket}/${key}`, { headers: { range: `bytes=${size - 65536}-${size - 1}` } });
      expect(footer.headers.get("x-cache")).toBe("HIT");
      expect(Buffer.compare(new Uint8Array(await footer.arrayBuffer()), objects.get(key)!.subarray(size - 65536))).toBe(0);
      await fillsSettled(parquet.endpoint);
      expect(relay.seen.filter(forKey(key)).map((r) => `${r.method} ${r.range}`)).toEqual([`GET bytes=-${65536 + BLOCK}`]);
      // Another file's HEAD is a HEAD.
      await putDirect("tail/table.csv", randomBytes(100, 33));
      relay.reset();
      expect((await fetch(`${parquet.endpoint}/${backend.bucket}/tail/table.csv`, { method: "HEAD" })).headers.get("content-length")).toBe("100");
      expect(relay.seen.map((r) => r.method)).toEqual(["HEAD"]);
      // A missing Parquet file's HEAD is a 404 without a body.
      const missing = await fetch(`${parquet.endpoint}/${backend.bucket}/tail/none.parquet`, { method: "HEAD" });
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe("");
    } finally {
      await parquet.stop();
    }
  });
});

describe("consistency", () => {
  test("an overwrite through the proxy is seen by the next GET at once", async () => {
    const key = "consistency/through.bin";
    await putDirect(key, randomBytes(2 * BLOCK, 1));
    await (await get(key, { range: "bytes=0-99" })).arrayBuffer();
    const fresh = randomBytes(2 * BLOCK, 2);
    const put = await fetch(`${proxy.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body: fresh });
    expect(put.status).toBe(200);
    const res = await get(key, { range: "bytes=0-99" });
    expect(Buffer.compare(new Uint8Array(await res.arrayBuffer()), fresh.subarray(0, 100))).toBe(0);
  });

  test("an overwrite behind the proxy's back never mixes versions: a pinned fill sees 412 and refetches", async () => {
    const key = "consistency/behind.bin";
    const v1 = randomBytes(4 * BLOCK, 3);
    await putDirect(key, v1);
    await (await get(key, { range: `bytes=0-${BLOCK - 1}` })).arrayBuffer();
    const v2 = randomBytes(4 * BLOCK, 4);
    await putDirect(key, v2);
    // Block 0 is cached (v1, within the meta TTL); block 1 must come from v1 too or the whole answer from v2.
    const res = await get(key, { range: `bytes=${BLOCK - 10}-${BLOCK + 9}` });
    const got = new Uint8Array(await res.arrayBuffer());
    const fromV1 = Buffer.compare(got, v1.subarray(BLOCK - 10, BLOCK + 10)) === 0;
    const fromV2 = Buffer.compare(got, v2.subarray(BLOCK - 10, BLOCK + 10)) === 0;
    expect(fromV1 || fromV2).toBe(true);
    expect(fromV2).toBe(true);
  });

  test("DeleteObjects through the proxy drops the bucket's cached metadata", async () => {
    const key = "consistency/deleted.txt";
    await putDirect(key, new TextEncoder().encode("soon gone"));
    expect((await get(key, {}, "HEAD")).status).toBe(200);
    const body = `<Delete><Object><Key>${key}</Key></Object></Delete>`;
    const del = await fetch(`${proxy.endpoint}/${backend.bucket}?delete`, { method: "POST", body, headers: { "content-type": "application/xml", "content-md5": Buffer.from(new Bun.CryptoHasher("md5").update(body).digest()).toString("base64") } });
    expect(del.status).toBe(200);
    expect((await get(key, {}, "HEAD")).status).toBe(404);
  });
});

describe("conditionals and bypass", () => {
  test("If-None-Match with the current ETag is a 304 from cache; If-Match with another is a 412", async () => {
    const key = "cond/obj.bin";
    await putDirect(key, randomBytes(1000, 8));
    const head = await get(key, {}, "HEAD");
    const etag = head.headers.get("etag")!;
    relay.reset();
    const notModified = await get(key, { "if-none-match": etag, range: "bytes=0-9" });
    expect(notModified.status).toBe(304);
    const failed = await get(key, { "if-match": '"not-the-etag"', range: "bytes=0-9" });
    expect(failed.status).toBe(412);
    expect(await failed.text()).toContain("<Code>PreconditionFailed</Code>");
    expect(relay.count()).toBe(0);
    const ok = await get(key, { "if-match": etag, range: "bytes=0-9" });
    expect(ok.status).toBe(206);
  });

  test("a range past the end is 416 InvalidRange with Content-Range bytes */size", async () => {
    const key = "cond/short.bin";
    await putDirect(key, randomBytes(100, 8));
    await get(key, {}, "HEAD");
    const res = await get(key, { range: "bytes=100-200" });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("bytes */100");
    expect(await res.text()).toContain("<Code>InvalidRange</Code>");
  });

  test("checksum mode (sent by current AWS SDKs) is cached for ranges and bypassed for whole objects", async () => {
    const key = "bypass/checksum.bin";
    await putDirect(key, randomBytes(1000, 8));
    const mode = { "x-amz-checksum-mode": "ENABLED" };
    await (await get(key, { ...mode, range: "bytes=0-9" })).arrayBuffer();
    await fillsSettled(proxy.endpoint);
    const again = await get(key, { ...mode, range: "bytes=0-9" });
    expect(Buffer.compare(new Uint8Array(await again.arrayBuffer()), objects.get(key)!.subarray(0, 10))).toBe(0);
    expect(again.headers.get("x-cache")).toBe("HIT");
    const whole = await get(key, mode);
    await whole.arrayBuffer();
    expect(whole.headers.get("x-cache")).toBe("BYPASS");
    const head = await get(key, mode, "HEAD");
    expect(head.headers.get("x-cache")).toBe("BYPASS");
  });

  test("a presigned ranged GET (aws-sdk presigner parameters) is answered from the cache", async () => {
    const key = "presigned/obj.bin";
    await putDirect(key, randomBytes(5000, 12));
    const presign =
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=A%2F20261125%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261125T152514Z&X-Amz-Expires=60&X-Amz-Signature=00&X-Amz-SignedHeaders=host&x-amz-checksum-mode=ENABLED&x-id=GetObject";
    const url = `${proxy.endpoint}/${backend.bucket}/${key}?${presign}`;
    await (await fetch(url, { headers: { range: "bytes=100-199" } })).arrayBuffer();
    await fillsSettled(proxy.endpoint);
    const again = await fetch(url, { headers: { range: "bytes=100-199" } });
    expect(Buffer.compare(new Uint8Array(await again.arrayBuffer()), objects.get(key)!.subarray(100, 200))).toBe(0);
    expect(again.headers.get("x-cache")).toBe("HIT");
  });

  test("Cache-Control: no-cache from the client bypasses the cache and partNumber is never cached", async () => {
    const key = "bypass/obj.bin";
    await putDirect(key, randomBytes(1000, 8));
    await (await get(key, { range: "bytes=0-9" })).arrayBuffer();
    relay.reset();
    const res = await get(key, { range: "bytes=0-9", "cache-control": "no-cache" });
    await res.arrayBuffer();
    expect(res.headers.get("x-cache")).toBe("BYPASS");
    expect(relay.count()).toBe(1);
    const part = await fetch(`${proxy.endpoint}/${backend.bucket}/${key}?partNumber=1`);
    await part.arrayBuffer();
    expect(part.headers.get("x-cache")).toBe("BYPASS");
  });
});

describe("memory bound", () => {
  test("filling several times the cache size never holds more than the limit", async () => {
    const small = await startTestProxy({ ...backend, endpoint: relay.endpoint }, { "block-size": String(BLOCK), "cache-size": String(8 * BLOCK), prefetch: false });
    try {
      const key = "bound/big.bin";
      await putDirect(key, randomBytes(40 * BLOCK, 77));
      const store = small.cache!.store;
      let peak = 0;
      // Ranges of two blocks: the largest a cache of eight blocks answers through its blocks.
      for (let i = 0; i < 40; i += 2) {
        const range = `bytes=${i * BLOCK}-${(i + 2) * BLOCK - 1}`;
        const reads = Array.from({ length: 4 }, () => fetch(`${small.endpoint}/${backend.bucket}/${key}`, { headers: { range } }).then((r) => r.arrayBuffer()));
        peak = Math.max(peak, store.bytesHeld + store.bytesReserved);
        await Promise.all(reads);
        peak = Math.max(peak, store.bytesHeld + store.bytesReserved);
      }
      expect(peak).toBeLessThanOrEqual(8 * BLOCK);
      expect(store.evictions).toBeGreaterThan(0);
    } finally {
      await small.stop();
    }
  });

  test("a cold range longer than the cache answers is streamed from one backend GET, none of it read for the cache", async () => {
    // A cache of 8 blocks answers ranges of up to 2; this range is 30 blocks of a 40-block object.
    const small = await startTestProxy({ ...backend, endpoint: relay.endpoint }, { "block-size": String(BLOCK), "cache-size": String(8 * BLOCK), prefetch: false });
    try {
      const key = "bound/long-range.bin";
      await putDirect(key, randomBytes(40 * BLOCK, 78));
      relay.reset();
      const range = `bytes=${5 * BLOCK + 7}-${35 * BLOCK + 6}`;
      const res = await fetch(`${small.endpoint}/${backend.bucket}/${key}`, { headers: { range } });
      expect(res.status).toBe(206);
      expect(Buffer.compare(new Uint8Array(await res.arrayBuffer()), objects.get(key)!.subarray(5 * BLOCK + 7, 35 * BLOCK + 7))).toBe(0);
      await fillsSettled(small.endpoint);
      // The metadata from a HEAD, the bytes from the client's own GET; no widened read of 30 blocks held in memory.
      expect(relay.seen.filter(forKey(key)).map((r) => `${r.method} ${r.range ?? ""}`)).toEqual(["HEAD ", `GET ${range}`]);
      expect(small.cache!.stats.bytesFromUpstream).toBe(0);
    } finally {
      await small.stop();
    }
  });
});
