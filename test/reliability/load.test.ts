/**
 * A short mixed load (the bench runs the long one): many concurrent clients doing cache
 * hits, misses, PUTs and LISTs against a real backend. Zero unexpected errors, every PUT
 * readable byte-exact afterwards.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes } from "../support/clients.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

let backend: Backend;
let proxy: TestProxy;
const BLOCK = 64 * 1024;

beforeAll(async () => {
  backend = await startBackend();
  proxy = await startTestProxy(backend, { "block-size": String(BLOCK), "cache-size": "16MiB" });
  for (let i = 0; i < 4; i++) {
    await fetch(`${backend.endpoint}/${backend.bucket}/hot/${i}.bin`, { method: "PUT", body: randomBytes(8 * BLOCK, i + 1) });
  }
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
});

test("200 concurrent clients of mixed operations for a few seconds: no unexpected errors, no lost write", async () => {
  const deadline = Date.now() + 4000;
  const written = new Map<string, Uint8Array>();
  const unexpected: string[] = [];
  let requests = 0;
  const base = `${proxy.endpoint}/${backend.bucket}`;
  const hot = Array.from({ length: 4 }, (_, i) => randomBytes(8 * BLOCK, i + 1));
  async function worker(id: number): Promise<void> {
    let n = 0;
    while (Date.now() < deadline) {
      n++;
      requests++;
      const kind = (id + n) % 4;
      try {
        if (kind === 0) {
          const key = `load/${id}-${n}.bin`;
          const body = randomBytes(1000 + ((id * 31 + n) % 5000), id * 1000 + n);
          const res = await fetch(`${base}/${key}`, { method: "PUT", body });
          if (res.status !== 200) unexpected.push(`PUT ${res.status}`);
          else written.set(key, body);
          await res.arrayBuffer();
        } else if (kind === 3) {
          const res = await fetch(`${base}?list-type=2&prefix=hot/`);
          if (res.status !== 200) unexpected.push(`LIST ${res.status}`);
          await res.arrayBuffer();
        } else {
          const obj = (id + n) % 4;
          const start = ((id * 7919 + n * 104729) % (7 * BLOCK)) >>> 0;
          const end = start + ((n * 977) % BLOCK);
          const res = await fetch(`${base}/hot/${obj}.bin`, { headers: { range: `bytes=${start}-${end}` } });
          const got = new Uint8Array(await res.arrayBuffer());
          if (res.status !== 206 || Buffer.compare(got, hot[obj]!.subarray(start, end + 1)) !== 0) unexpected.push(`GET ${res.status} wrong bytes`);
        }
      } catch (err) {
        unexpected.push(`${kind}: ${err}`);
      }
    }
  }
  await Promise.all(Array.from({ length: 200 }, (_, i) => worker(i)));
  expect(unexpected).toEqual([]);
  expect(requests).toBeGreaterThan(200);
  for (const [key, body] of written) {
    const got = new Uint8Array(await (await fetch(`${backend.endpoint}/${backend.bucket}/${key}`)).arrayBuffer());
    expect(Buffer.compare(got, body)).toBe(0);
  }
  console.log(`load: ${requests} requests from 200 clients in 4 s, ${written.size} PUTs verified, 0 errors`);
});
