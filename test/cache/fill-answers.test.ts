/**
 * What a reader gets when the backend refuses a cache fill for an object whose metadata the
 * cache trusts: the backend's own answer (a 403 stays a 403, a 503 a 503), and for an object
 * deleted behind the proxy's back, the 404 S3 now gives, not a 502 of the proxy's making.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startReferenceBackend, type ReferenceBackend } from "../support/reference-backend.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

const BLOCK = 16 * 1024;
let backend: ReferenceBackend;
let proxy: TestProxy;

beforeAll(async () => {
  backend = startReferenceBackend();
  proxy = await startTestProxy({ endpoint: backend.endpoint, accessKeyId: "AK", secretAccessKey: "SK", region: "us-east-1" }, { "block-size": String(BLOCK), "meta-ttl": "1h", prefetch: false, retries: "1" });
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
});

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 255);
const read = (path: string, start: number) => fetch(`${proxy.endpoint}/${path}`, { headers: { range: `bytes=${start}-${start + 9}` } });

/** An object whose metadata and first block the proxy has cached. */
async function known(path: string): Promise<void> {
  backend.put(path, bytes(4 * BLOCK));
  expect((await read(path, 0)).status).toBe(206);
}

test("a fill the backend refuses with 403 answers the backend's 403, body and all", async () => {
  await known("b/refused");
  backend.setFault("b/refused", { kind: "status", status: 403 });
  const res = await read("b/refused", 2 * BLOCK);
  expect(res.status).toBe(403);
  expect(await res.text()).toContain("<Code>AccessDenied</Code>");
  backend.setFault("b/refused", undefined);
  const again = await read("b/refused", 2 * BLOCK);
  expect(again.status).toBe(206);
  expect(new Uint8Array(await again.arrayBuffer())).toEqual(bytes(4 * BLOCK).subarray(2 * BLOCK, 2 * BLOCK + 10));
});

test("a fill the backend answers 503 answers 503, so the client retries as it would against S3", async () => {
  await known("b/slow-down");
  backend.setFault("b/slow-down", { kind: "status", status: 503 });
  const res = await read("b/slow-down", 3 * BLOCK);
  expect(res.status).toBe(503);
  expect(await res.text()).toContain("<Code>SlowDown</Code>");
  backend.setFault("b/slow-down", undefined);
});

test("an object deleted behind the proxy's back answers 404 NoSuchKey on its next fill", async () => {
  await known("b/deleted");
  backend.delete("b/deleted");
  const res = await read("b/deleted", BLOCK);
  expect(res.status).toBe(404);
  expect(await res.text()).toContain("<Code>NoSuchKey</Code>");
});

test("a backend that ignores Range sends whole objects: each read gets exactly its bytes, cut from the body as it streams", async () => {
  const whole = bytes(40 * BLOCK);
  let gets = 0;
  const deaf = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      if (req.method === "GET") gets++;
      return new Response(req.method === "HEAD" ? null : whole, { headers: { etag: '"deaf"', "content-length": String(whole.length) } });
    },
  });
  const p = await startTestProxy({ endpoint: `http://127.0.0.1:${deaf.port}`, accessKeyId: "AK", secretAccessKey: "SK", region: "us-east-1" }, { "block-size": String(BLOCK), prefetch: false });
  try {
    for (const [start, end] of [
      [5, 20],
      [3 * BLOCK - 2, 3 * BLOCK + 9],
      [30 * BLOCK, 34 * BLOCK + 100],
      [40 * BLOCK - 7, 40 * BLOCK - 1],
    ] as const) {
      const res = await fetch(`${p.endpoint}/b/deaf.bin`, { headers: { range: `bytes=${start}-${end}` } });
      expect(res.status).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${whole.length}`);
      expect(Buffer.compare(new Uint8Array(await res.arrayBuffer()), whole.subarray(start, end + 1))).toBe(0);
    }
    expect(gets).toBeGreaterThan(1);
  } finally {
    await p.stop();
    deaf.stop(true);
  }
});
