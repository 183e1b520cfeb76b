/**
 * The latency relay passes bytes through untouched and counts each request/response
 * exchange once, over keep-alive connections, whatever the delay and bandwidth cap.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pacer, startLatencyRelay, type LatencyRelay } from "../../scripts/bench/latency-relay.ts";
import { randomBytes } from "../support/clients.ts";

const BODY = randomBytes(3 * 1024 * 1024 + 17, 5);
let origin: ReturnType<typeof Bun.serve>;
let relay: LatencyRelay;

beforeAll(() => {
  origin = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (new URL(req.url).pathname === "/big" ? new Response(BODY) : new Response("small")) });
  relay = startLatencyRelay({ targetHost: "127.0.0.1", targetPort: origin.port!, delayMs: 5, bandwidth: 64 * 1024 * 1024 });
});

afterAll(async () => {
  relay.stop();
  await origin.stop(true);
});

test("bodies arrive byte for byte and every request on a kept-alive connection is counted once", async () => {
  relay.reset();
  const base = `http://127.0.0.1:${relay.port}`;
  const big = new Uint8Array(await (await fetch(`${base}/big`)).arrayBuffer());
  expect(Buffer.compare(big, BODY)).toBe(0);
  for (let i = 0; i < 3; i++) expect(await (await fetch(`${base}/small`)).text()).toBe("small");
  const stats = relay.stats();
  expect(stats.requests).toBe(4);
  expect(stats.bytesFromBackend).toBeGreaterThan(BODY.length);
});

test("concurrent connections are relayed independently", async () => {
  relay.reset();
  const bodies = await Promise.all(Array.from({ length: 8 }, async () => new Uint8Array(await (await fetch(`http://127.0.0.1:${relay.port}/big`)).arrayBuffer())));
  for (const b of bodies) expect(Buffer.compare(b, BODY)).toBe(0);
  expect(relay.stats().requests).toBe(8);
});

test("a pacer spaces what it carries by its rate, and each connection has its own", () => {
  const perSecond = 1000; // a byte per millisecond
  const one = pacer(perSecond);
  expect(one(100, 0)).toBe(100);
  expect(one(100, 0)).toBe(200); // queued behind the first 100 bytes
  expect(one(100, 500)).toBe(600); // an idle link starts when the bytes are ready
  expect(pacer(perSecond)(100, 0)).toBe(100); // another connection is not slowed by the first
  expect(pacer(undefined)(1e9, 42)).toBe(42); // no cap: due when ready
});
