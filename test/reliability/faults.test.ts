/**
 * Faults injected between the proxy and a real backend. For each: what the client sees,
 * that the proxy stays up, that nothing bad is cached, and that the next request after
 * recovery gets the right bytes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes } from "../support/clients.ts";
import { startFaultRelay, type FaultRelay } from "../support/fault-relay.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

const BLOCK = 64 * 1024;
let backend: Backend;
let relay: FaultRelay;
let proxy: TestProxy;
const objects = new Map<string, Uint8Array>();

async function putDirect(key: string, body: Uint8Array): Promise<void> {
  const res = await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body });
  expect(res.status).toBe(200);
  objects.set(key, body);
}

async function read(key: string, range?: string): Promise<{ status: number; bytes: Uint8Array; text: string; cache: string | null }> {
  try {
    const res = await fetch(`${proxy.endpoint}/${backend.bucket}/${key}`, { headers: range ? { range } : {} });
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, bytes, text: new TextDecoder().decode(bytes), cache: res.headers.get("x-cache") };
  } catch {
    return { status: 0, bytes: new Uint8Array(0), text: "", cache: null };
  }
}

function expectBytes(got: Uint8Array, key: string, start: number, end: number): void {
  expect(Buffer.compare(got, objects.get(key)!.subarray(start, end + 1))).toBe(0);
}

beforeAll(async () => {
  backend = await startBackend();
  const url = new URL(backend.endpoint);
  relay = startFaultRelay({ hostname: url.hostname, port: Number(url.port) });
  proxy = await startTestProxy(
    { ...backend, endpoint: relay.endpoint },
    {
      "block-size": String(BLOCK),
      prefetch: false,
      "first-byte-timeout": "400ms",
      "idle-timeout": "400ms",
      "meta-ttl": "0",
    },
  );
  for (let i = 0; i < 12; i++) await putDirect(`obj-${i}.bin`, randomBytes(4 * BLOCK, 100 + i));
});

afterEach(() => relay.dropIdle());

afterAll(async () => {
  await proxy?.stop();
  relay?.stop();
  await backend?.stop();
});

describe("faults on the way back from the backend", () => {
  test("a reset mid-body is asked again before the client sees anything: it gets its exact bytes, one retry counted", async () => {
    relay.dropIdle();
    const retried = proxy.cache!.stats.retriedReads;
    relay.queue({ kind: "reset", afterBodyBytes: 1000 });
    const res = await read("obj-0.bin", `bytes=0-${BLOCK - 1}`);
    expect(res.status).toBe(206);
    expectBytes(res.bytes, "obj-0.bin", 0, BLOCK - 1);
    expect(proxy.cache!.stats.retriedReads - retried).toBe(1);
  });

  test("a reset on the retry too fails the read cleanly (502), caches nothing, and the next read is exact", async () => {
    relay.dropIdle();
    relay.queue({ kind: "reset", afterBodyBytes: 1000 }, { kind: "reset", afterBodyBytes: 1000 });
    const failed = await read("obj-10.bin", `bytes=0-${BLOCK - 1}`);
    expect(failed.status).toBe(502);
    expect(failed.text).toContain("<Code>BadGateway</Code>");
    const ok = await read("obj-10.bin", `bytes=0-${BLOCK - 1}`);
    expect(ok.status).toBe(206);
    expectBytes(ok.bytes, "obj-10.bin", 0, BLOCK - 1);
  });

  test("a truncated body (clean close) is never cached or served as complete: the read is asked again and exact", async () => {
    relay.dropIdle();
    relay.queue({ kind: "truncate", afterBodyBytes: 5000 });
    const res = await read("obj-1.bin", `bytes=0-${2 * BLOCK - 1}`);
    expect(res.status).toBe(206);
    expectBytes(res.bytes, "obj-1.bin", 0, 2 * BLOCK - 1);
    relay.dropIdle();
    relay.queue({ kind: "truncate", afterBodyBytes: 5000 }, { kind: "truncate", afterBodyBytes: 5000 });
    const failed = await read("obj-11.bin", `bytes=0-${2 * BLOCK - 1}`);
    expect(failed.status).toBe(502);
    const ok = await read("obj-11.bin", `bytes=0-${2 * BLOCK - 1}`);
    expect(ok.status).toBe(206);
    expectBytes(ok.bytes, "obj-11.bin", 0, 2 * BLOCK - 1);
  });

  test("a stall before the first byte is retried on a fresh connection and succeeds", async () => {
    relay.dropIdle();
    relay.queue({ kind: "stall", ms: 2000 });
    const res = await read("obj-2.bin", `bytes=10-99`);
    expect(res.status).toBe(206);
    expectBytes(res.bytes, "obj-2.bin", 10, 99);
  });

  test("stalls on every attempt end in 504 GatewayTimeout, and the proxy recovers", async () => {
    relay.dropIdle();
    relay.queue({ kind: "stall", ms: 2000 }, { kind: "stall", ms: 2000 }, { kind: "stall", ms: 2000 });
    const res = await read("obj-3.bin", `bytes=10-99`);
    expect(res.status).toBe(504);
    expect(res.text).toContain("<Code>GatewayTimeout</Code>");
    relay.dropIdle();
    const ok = await read("obj-3.bin", `bytes=10-99`);
    expect(ok.status).toBe(206);
    expectBytes(ok.bytes, "obj-3.bin", 10, 99);
  });

  test("a stall mid-body beyond the idle timeout is never a short 206: the read is asked again and exact; stalled twice, 504", async () => {
    relay.dropIdle();
    relay.queue({ kind: "stall-mid-body", afterBodyBytes: 3000, ms: 3000 });
    const res = await read("obj-4.bin", `bytes=0-${BLOCK - 1}`);
    expect(res.status).toBe(206);
    expectBytes(res.bytes, "obj-4.bin", 0, BLOCK - 1);
    relay.dropIdle();
    relay.queue({ kind: "stall-mid-body", afterBodyBytes: 3000, ms: 3000 }, { kind: "stall-mid-body", afterBodyBytes: 3000, ms: 3000 });
    const failed = await read("obj-4.bin", `bytes=${2 * BLOCK}-${3 * BLOCK - 1}`);
    expect(failed.status).toBe(504);
    const ok = await read("obj-4.bin", `bytes=${2 * BLOCK}-${3 * BLOCK - 1}`);
    expectBytes(ok.bytes, "obj-4.bin", 2 * BLOCK, 3 * BLOCK - 1);
  });

  test("500 and 503 SlowDown answers are retried; past the attempts the client gets the backend's error", async () => {
    relay.dropIdle();
    relay.queue({ kind: "status", status: 503 }, { kind: "status", status: 500 });
    const recovered = await read("obj-5.bin", `bytes=0-99`);
    expect(recovered.status).toBe(206);
    expectBytes(recovered.bytes, "obj-5.bin", 0, 99);
    relay.dropIdle();
    relay.queue({ kind: "status", status: 503 }, { kind: "status", status: 503 }, { kind: "status", status: 503 });
    const gaveUp = await read("obj-6.bin", `bytes=0-99`);
    expect(gaveUp.status).toBe(503);
    expect(gaveUp.text).toContain("<Code>SlowDown</Code>");
    const ok = await read("obj-6.bin", `bytes=0-99`);
    expectBytes(ok.bytes, "obj-6.bin", 0, 99);
  });

  test("a corrupted byte in a whole-object answer is caught by its MD5 ETag and never served", async () => {
    const key = "small-whole.txt";
    await putDirect(key, new TextEncoder().encode("the quick brown fox jumps over the lazy dog"));
    relay.dropIdle();
    relay.queue({ kind: "corrupt", atBodyByte: 4 });
    const res = await read(key);
    expect(res.status).toBe(502);
    const ok = await read(key);
    expect(ok.status).toBe(200);
    expect(ok.text).toBe("the quick brown fox jumps over the lazy dog");
  });
});

describe("backend down", () => {
  test("refused connections get 502, then the circuit opens and fails fast with 503; it closes again after recovery", async () => {
    relay.down();
    const first = await read("obj-7.bin", "bytes=0-9");
    expect(first.status).toBe(502);
    expect(first.text).toContain("<Code>BadGateway</Code>");
    let sawFastFail = false;
    for (let i = 0; i < 6 && !sawFastFail; i++) sawFastFail = (await read("obj-7.bin", "bytes=0-9")).status === 503;
    expect(sawFastFail).toBe(true);
    relay.up();
    let recovered = false;
    for (let i = 0; i < 40 && !recovered; i++) {
      const r = await read("obj-7.bin", "bytes=0-9");
      recovered = r.status === 206;
      if (!recovered) await Bun.sleep(100);
    }
    expect(recovered).toBe(true);
  });
});

describe("hedged fills", () => {
  test("a fill slower than --hedge-after gets a second identical request and the first answer wins", async () => {
    const hedging = await startTestProxy({ ...backend, endpoint: relay.endpoint }, { "block-size": String(BLOCK), prefetch: false, "hedge-after": "100ms", "first-byte-timeout": "10s" });
    try {
      const url = `${hedging.endpoint}/${backend.bucket}/obj-9.bin`;
      expect((await fetch(url, { method: "HEAD" })).status).toBe(200);
      relay.dropIdle();
      const before = relay.connections;
      relay.queue({ kind: "stall", ms: 3000 });
      const res = await fetch(url, { headers: { range: "bytes=100-199" } });
      expectBytes(new Uint8Array(await res.arrayBuffer()), "obj-9.bin", 100, 199);
      expect(hedging.cache!.stats.hedges).toBe(1);
      expect(relay.connections - before).toBeGreaterThanOrEqual(2);
    } finally {
      await hedging.stop();
    }
  });
});

describe("serve stale on error", () => {
  test("while the backend is down, expired metadata and cached blocks are still served (x-cache: STALE)", async () => {
    const stale = await startTestProxy({ ...backend, endpoint: relay.endpoint }, { "block-size": String(BLOCK), prefetch: false, "meta-ttl": "200ms", "first-byte-timeout": "300ms" });
    try {
      const url = `${stale.endpoint}/${backend.bucket}/obj-8.bin`;
      expect((await fetch(url, { method: "HEAD" })).status).toBe(200);
      // The whole first block, so the answer means the block is stored (a shorter read is answered before its block completes).
      await (await fetch(url, { headers: { range: `bytes=0-${BLOCK - 1}` } })).arrayBuffer();
      relay.down();
      await Bun.sleep(300);
      const head = await fetch(url, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("x-cache")).toBe("STALE");
      expect(head.headers.get("content-length")).toBe(String(4 * BLOCK));
      const res = await fetch(url, { headers: { range: "bytes=0-999" } });
      expect(res.status).toBe(206);
      expect(res.headers.get("x-cache")).toBe("STALE");
      expectBytes(new Uint8Array(await res.arrayBuffer()), "obj-8.bin", 0, 999);
    } finally {
      relay.up();
      await stale.stop();
    }
  });
});

describe("versions never mix", () => {
  test("an object overwritten during a long sequence of ranged reads: each answer is wholly one version", async () => {
    const key = "moving.bin";
    const v1 = randomBytes(8 * BLOCK, 1);
    const v2 = randomBytes(8 * BLOCK, 2);
    await putDirect(key, v1);
    const cachedProxy = await startTestProxy({ ...backend, endpoint: relay.endpoint }, { "block-size": String(BLOCK), prefetch: false, "meta-ttl": "60s" });
    try {
      for (let i = 0; i < 16; i++) {
        if (i === 6) await putDirect(key, v2);
        const start = (i * BLOCK) / 2;
        const end = start + BLOCK + 100;
        const res = await fetch(`${cachedProxy.endpoint}/${backend.bucket}/${key}`, { headers: { range: `bytes=${start}-${end}` } });
        const got = new Uint8Array(await res.arrayBuffer());
        const isV1 = Buffer.compare(got, v1.subarray(start, end + 1)) === 0;
        const isV2 = Buffer.compare(got, v2.subarray(start, end + 1)) === 0;
        expect(isV1 || isV2).toBe(true);
      }
    } finally {
      await cachedProxy.stop();
    }
  });
});
