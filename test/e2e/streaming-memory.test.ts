/**
 * Bodies stream through the proxy both ways: a 1 GiB PUT and GET through the proxy running
 * as its own process (`bun src/main.ts --no-cache`) must keep its peak RSS (VmHWM) under
 * 150 MB. The client streams the upload from a generator and hashes the download as it
 * arrives, so neither side ever holds the object.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes } from "../support/clients.ts";
import { spawnProxy, type SpawnedProxy } from "../support/spawn.ts";

const SIZE = 1024 ** 3;
const BLOCK = 1024 ** 2;
const LIMIT_MB = 150;

let backend: Backend;
let proxy: SpawnedProxy;

beforeAll(async () => {
  backend = await startBackend();
  proxy = await spawnProxy(["--endpoint", backend.endpoint, "--no-cache"], {
    AWS_ACCESS_KEY_ID: backend.accessKeyId,
    AWS_SECRET_ACCESS_KEY: backend.secretAccessKey,
  });
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
});

/** Peak resident set size of a process, in MB (kernel-tracked high-water mark). */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmHWM:"))!;
  return Number(/(\d+)/.exec(line)![1]) / 1024;
}

/** SIZE bytes, one distinct 1 MiB block at a time, hashed as they are produced. */
function generated(hasher: Bun.CryptoHasher): ReadableStream<Uint8Array> {
  const pattern = randomBytes(BLOCK, 99);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent === SIZE) return controller.close();
      const block = pattern.slice();
      new DataView(block.buffer).setFloat64(0, sent);
      hasher.update(block);
      controller.enqueue(block);
      sent += BLOCK;
    },
  });
}

describe("streaming through a separate proxy process", () => {
  test("a 1 GiB PUT and GET keep the proxy's peak RSS under 150 MB and the bytes intact", async () => {
    const url = `${proxy.endpoint}/${backend.bucket}/big/one-gib.bin`;
    const sent = new Bun.CryptoHasher("sha256");
    const put = await fetch(url, { method: "PUT", headers: { "content-length": String(SIZE) }, body: generated(sent), duplex: "half" } as RequestInit);
    expect(put.status).toBe(200);
    await put.arrayBuffer();

    const get = await fetch(url);
    expect(get.status).toBe(200);
    const received = new Bun.CryptoHasher("sha256");
    let length = 0;
    for await (const chunk of get.body!) {
      received.update(chunk);
      length += chunk.length;
    }
    expect(length).toBe(SIZE);
    expect(received.digest("hex")).toBe(sent.digest("hex"));

    const peak = peakRssMb(proxy.process.pid);
    console.log(`proxy peak RSS after 1 GiB up and down: ${peak.toFixed(1)} MB`);
    expect(peak).toBeLessThan(LIMIT_MB);
    // ~30 s on an idle 2-core machine (s3rver writes and MD5s the gigabyte); room for a busy one.
  }, 240_000);
});
