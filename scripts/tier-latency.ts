/**
 * Hit latency per cache tier, measured on this machine: one proxy per tier in front of an
 * embedded s3rver, each warmed first, then the same sequential 256 KiB range reads timed.
 * "disk" and "redis" run with a memory cache smaller than a block, so every read is
 * answered by that tier. Prints a Markdown table for the README.
 *
 *   bun scripts/tier-latency.ts [reads=400]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBackend } from "../test/support/backend.ts";
import { randomBytes } from "../test/support/clients.ts";
import { startTestProxy } from "../test/support/proxy.ts";
import { startRedis } from "../test/support/redis.ts";

const READS = Number(process.argv[2] ?? 400);
const SIZE = 32 * 1024 ** 2;
const RANGE = 256 * 1024;
const KEY = "latency/object.bin";

const backend = await startBackend();
const redis = await startRedis("256mb");
const dir = mkdtempSync(join(tmpdir(), "tier-latency-"));
await fetch(`${backend.endpoint}/${backend.bucket}/${KEY}`, { method: "PUT", body: randomBytes(SIZE, 9) });

const tiny = "64KiB"; // smaller than a block: memory keeps nothing, the tier below answers
const variants: Array<[string, Record<string, string | boolean>]> = [
  ["memory", {}],
  ["disk", { "cache-size": tiny, "cache-dir": dir }],
  ["redis", { "cache-size": tiny, "redis-url": redis.url }],
  ["none (backend: s3rver on loopback)", { cache: false }],
];

// The same pseudo-random offsets for every variant.
let seed = 42;
const offsets = Array.from({ length: READS }, () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % (SIZE - RANGE);
});

const rows: string[] = [];
for (const [name, flags] of variants) {
  const proxy = await startTestProxy(backend, { prefetch: false, ...flags });
  const read = async (start: number) => {
    const res = await fetch(`${proxy.endpoint}/${backend.bucket}/${KEY}`, { headers: { range: `bytes=${start}-${start + RANGE - 1}` } });
    if ((await res.bytes()).byteLength !== RANGE) throw new Error(`${name}: short read`);
  };
  for (let start = 0; start < SIZE; start += RANGE) await read(start); // warm every block
  for (const tier of proxy.cache?.tiers ?? []) await tier.flush();
  const times: number[] = [];
  for (const start of offsets) {
    const t0 = Bun.nanoseconds();
    await read(start);
    times.push((Bun.nanoseconds() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
  rows.push(`| ${name} | ${at(0.5)} | ${at(0.9)} | ${at(0.99)} |`);
  await proxy.stop();
}

console.log(`${READS} sequential ${RANGE / 1024} KiB range reads at random offsets of a ${SIZE / 1024 ** 2} MiB object, 1 MiB blocks (ms):\n`);
console.log("| answered by | p50 | p90 | p99 |\n|---|---|---|---|");
console.log(rows.join("\n"));
await redis.stop();
await backend.stop();
rmSync(dir, { recursive: true, force: true });
