/**
 * Discovery of objects the cache does not know, through the real proxy in front of a backend
 * whose answers the test holds back: concurrent discoveries are one backend request, and
 * every waiter gets the leader's answer, whatever it is.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

interface Held {
  method: string;
  path: string;
  range: string | null;
}

/** A backend answering every request with `answer`, released all at once by `release()`. */
function gatedBackend(answer: (req: Request) => Response) {
  const seen: Held[] = [];
  let open!: () => void;
  let gate = new Promise<void>((r) => (open = r));
  let arrived: () => void = () => {};
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      seen.push({ method: req.method, path: new URL(req.url).pathname, range: req.headers.get("range") });
      arrived();
      await gate;
      return answer(req);
    },
  });
  return {
    server,
    seen,
    endpoint: `http://127.0.0.1:${server.port}`,
    /** Resolves once `n` requests have reached the backend. */
    reached: (n: number) => (seen.length >= n ? Promise.resolve() : new Promise<void>((r) => (arrived = () => seen.length >= n && r()))),
    release() {
      open();
      gate = new Promise<void>((r) => (open = r));
    },
  };
}

const NO_SUCH_KEY = "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
let backend: ReturnType<typeof gatedBackend>;
let proxy: TestProxy;

beforeAll(async () => {
  backend = gatedBackend((req) => {
    const path = new URL(req.url).pathname;
    if (path.endsWith("/forbidden")) return new Response(req.method === "HEAD" ? null : "<Error><Code>AccessDenied</Code></Error>", { status: 403, headers: { "x-amz-request-id": "R1" } });
    return new Response(req.method === "HEAD" ? null : NO_SUCH_KEY, { status: 404, headers: { "content-type": "application/xml" } });
  });
  // No negative TTL: nothing is remembered, so every waiter must get the shared answer itself.
  proxy = await startTestProxy({ endpoint: backend.endpoint, accessKeyId: "AK", secretAccessKey: "SK", region: "us-east-1" }, { "negative-ttl": "0", prefetch: false });
});

afterAll(async () => {
  await proxy?.stop();
  backend?.server.stop(true);
});

/** Resolves once `n` more reads have joined a discovery in flight (they are then certain to share it). */
async function joined(before: number, n: number): Promise<void> {
  while (proxy.cache!.stats.coalescedWaits < before + n) await new Promise((r) => setImmediate(r));
}

async function answers(requests: Array<Promise<Response>>) {
  const got = await Promise.all(requests.map((p) => p.then(async (r) => ({ status: r.status, body: await r.text(), cache: r.headers.get("x-cache") }))));
  return got;
}

test("concurrent ranged GETs of a missing key are one backend request, and every one of them gets the 404", async () => {
  const before = backend.seen.length;
  const waits = proxy.cache!.stats.coalescedWaits;
  const gets = Array.from({ length: 6 }, (_, i) => fetch(`${proxy.endpoint}/bucket/missing-range`, { headers: { range: `bytes=${i * 10}-${i * 10 + 99}` }, signal: AbortSignal.timeout(20_000) }));
  await backend.reached(before + 1);
  await joined(waits, 5);
  backend.release();
  const got = await answers(gets);
  expect(got.map((g) => g.status)).toEqual([404, 404, 404, 404, 404, 404]);
  for (const g of got) expect(g.body).toBe(NO_SUCH_KEY);
  expect(backend.seen.length - before).toBe(1);
});

test("HEADs and GETs of a missing key in flight together all get the 404", async () => {
  const before = backend.seen.length;
  const waits = proxy.cache!.stats.coalescedWaits;
  const url = `${proxy.endpoint}/bucket/missing-mixed`;
  const reqs = [
    fetch(url, { method: "HEAD", signal: AbortSignal.timeout(20_000) }),
    fetch(url, { headers: { range: "bytes=0-9" }, signal: AbortSignal.timeout(20_000) }),
    fetch(url, { method: "HEAD", signal: AbortSignal.timeout(20_000) }),
    fetch(url, { headers: { range: "bytes=5-20" }, signal: AbortSignal.timeout(20_000) }),
  ];
  // One HEAD and one ranged GET reach the backend; the others join them.
  await backend.reached(before + 2);
  await joined(waits, 2);
  backend.release();
  expect((await answers(reqs)).map((g) => g.status)).toEqual([404, 404, 404, 404]);
  expect(backend.seen.length - before).toBe(2);
});

test("concurrent HEADs whose backend answer is a 403 all get the 403, not a 503", async () => {
  const before = backend.seen.length;
  const waits = proxy.cache!.stats.coalescedWaits;
  const heads = Array.from({ length: 4 }, () => fetch(`${proxy.endpoint}/bucket/forbidden`, { method: "HEAD", signal: AbortSignal.timeout(20_000) }));
  await backend.reached(before + 1);
  await joined(waits, 3);
  backend.release();
  expect((await answers(heads)).map((g) => g.status)).toEqual([403, 403, 403, 403]);
  expect(backend.seen.length - before).toBe(1);
});

test("concurrent ranged GETs answered 403 all get the backend's error body", async () => {
  const before = backend.seen.length;
  const waits = proxy.cache!.stats.coalescedWaits;
  const gets = Array.from({ length: 3 }, () => fetch(`${proxy.endpoint}/bucket/forbidden`, { headers: { range: "bytes=0-99" }, signal: AbortSignal.timeout(20_000) }));
  await backend.reached(before + 1);
  await joined(waits, 2);
  backend.release();
  const got = await answers(gets);
  expect(got.map((g) => [g.status, g.body])).toEqual(Array(3).fill([403, "<Error><Code>AccessDenied</Code></Error>"]));
  expect(backend.seen.length - before).toBe(1);
});

test("cold reads of distinct objects wait for room in the fill budget before their widened GETs reach the backend", async () => {
  const BLOCK = 64 * 1024;
  const SIZE = 16 * BLOCK;
  const bytesOf = (key: string) => Uint8Array.from({ length: SIZE }, (_, i) => (i * 31 + key.length * 7 + key.charCodeAt(key.length - 1)) & 0xff);
  const ranged = gatedBackend((req) => {
    const key = new URL(req.url).pathname;
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.get("range") ?? "")!;
    const [start, end] = [Number(m[1]), Math.min(Number(m[2]), SIZE - 1)];
    return new Response(bytesOf(key).subarray(start, end + 1), { status: 206, headers: { etag: `"${key.length}"`, "content-range": `bytes ${start}-${end}/${SIZE}` } });
  });
  // A cache of 32 blocks has a fill budget of 4 blocks: each of these 4-block reads takes all of it.
  const small = await startTestProxy({ endpoint: ranged.endpoint, accessKeyId: "AK", secretAccessKey: "SK", region: "us-east-1" }, { "block-size": String(BLOCK), "cache-size": String(32 * BLOCK), prefetch: false });
  try {
    const keys = ["/b/one", "/b/two", "/b/three"];
    const reads = keys.map((k) => fetch(`${small.endpoint}${k}`, { headers: { range: `bytes=0-${4 * BLOCK - 1}` } }).then(async (r) => ({ status: r.status, body: new Uint8Array(await r.arrayBuffer()) })));
    await ranged.reached(1);
    const fills = small.cache!.fills;
    while (fills.queued < 2 && ranged.seen.length < 3) await new Promise((r) => setImmediate(r));
    expect(ranged.seen.length).toBe(1);
    expect(fills.queued).toBe(2);
    for (let n = 2; n <= 3; n++) {
      ranged.release();
      await ranged.reached(n);
    }
    ranged.release();
    const got = await Promise.all(reads);
    for (const [i, g] of got.entries()) {
      expect(g.status).toBe(206);
      expect(Buffer.compare(g.body, bytesOf(keys[i]!).subarray(0, 4 * BLOCK))).toBe(0);
    }
    expect(fills.inUse).toBe(0);
  } finally {
    await small.stop();
    ranged.server.stop(true);
  }
});

test("a Parquet HEAD whose tail GET is refused (an archived object) is asked again with a HEAD, and answered as the backend answers a HEAD", async () => {
  const seen: string[] = [];
  const archived = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      seen.push(`${req.method} ${req.headers.get("range") ?? ""}`.trim());
      if (req.method === "HEAD") return new Response(null, { status: 200, headers: { "content-length": "5000", etag: '"e1"', "x-amz-storage-class": "GLACIER" } });
      return new Response("<Error><Code>InvalidObjectState</Code></Error>", { status: 403, headers: { "content-type": "application/xml" } });
    },
  });
  const p = await startTestProxy({ endpoint: `http://127.0.0.1:${archived.port}`, accessKeyId: "AK", secretAccessKey: "SK", region: "us-east-1" }, { "block-size": "64KiB" });
  try {
    const res = await fetch(`${p.endpoint}/b/cold/table.parquet`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("5000");
    expect(res.headers.get("x-amz-storage-class")).toBe("GLACIER");
    expect(seen.slice(0, 2)).toEqual([`GET bytes=-${65536 + 65536}`, "HEAD"]);
  } finally {
    await p.stop();
    archived.stop(true);
  }
});
