/**
 * Connections to the backend are reused: in steady state the proxy opens no new TCP
 * connection per request. A counting relay sits between the proxy and the backend.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes } from "../support/clients.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";
import { startRelay, type Relay } from "../support/relay.ts";

let backend: Backend;
let relay: Relay;
let proxy: TestProxy;

beforeAll(async () => {
  backend = await startBackend();
  const target = new URL(backend.endpoint);
  relay = await startRelay({ hostname: target.hostname, port: Number(target.port) });
  proxy = await startTestProxy({ ...backend, endpoint: relay.endpoint }, { cache: false });
});

afterAll(async () => {
  await proxy?.stop();
  await relay?.stop();
  await backend?.stop();
});

describe("backend connection reuse", () => {
  test("60 sequential requests (PUT, GET, HEAD, list) share a handful of connections", async () => {
    const body = randomBytes(20_000, 71);
    for (let i = 0; i < 15; i++) {
      const url = `${proxy.endpoint}/${backend.bucket}/reuse/${i}.bin`;
      expect((await fetch(url, { method: "PUT", body })).status).toBe(200);
      expect((await (await fetch(url)).arrayBuffer()).byteLength).toBe(body.length);
      expect((await fetch(url, { method: "HEAD" })).status).toBe(200);
      expect((await fetch(`${proxy.endpoint}/${backend.bucket}?list-type=2&prefix=reuse%2F`)).status).toBe(200);
    }
    console.log(`backend connections for 60 requests: ${relay.connections()}`);
    // Fresh connections per request would be 60.
    expect(relay.connections()).toBeLessThanOrEqual(3);
  });
});
