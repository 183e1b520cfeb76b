/**
 * Hit latency per cache tier, measured on this machine: one proxy per tier in front of an
 * embedded s3rver, each warmed first, then the same sequential range reads timed.
 * "disk" and "redis" run with a memory cache smaller than a block, so every read is
 * answered by that tier. Prints a Markdown table for the README.
 *
 *   bun scripts/tier-latency.ts [reads=400]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskTier } from "../src/cache/disk-tier.ts";
import { RedisTier } from "../src/cache/redis-tier.ts";
import { startBackend } from "../test/support/backend.ts";
import { randomBytes } from "../test/support/clients.ts";
import { startTestProxy } from "../test/support/proxy.ts";
import { startRedis } from "../test/support/redis.ts";

const READS = Number(process.argv[2] ?? 400);
const SIZE = 32 * 1024 ** 2;
const BLOCK = 1024 ** 2;
const KEY = "latency/object.bin";

const backend = await startBackend();
const redis = await startRedis("256mb");
process.on("exit", () => void redis.stop()); // also when a step throws
const dir = mkdtempSync(join(tmpdir(), "tier-latency-"));
await fetch(`${backend.endpoint}/${backend.bucket}/${KEY}`, { method: "PUT", body: randomBytes(SIZE, 9) });

const tiny = "64KiB"; // smaller than a block: memory keeps nothing, the tier below answers
const variants: Array<[string, Record<string, string | boolean>]> = [
  ["memory", {}],
  ["disk", { "cache-size": tiny, "cache-dir": dir }],
  ["redis", { "cache-size": tiny, "redis-url": redis.url }],
  ["none (backend: s3rver on loopback)", { cache: false }],
];

// The same pseudo-random reads for every variant: 256 KiB anywhere (often across two blocks), and whole aligned blocks.
let seed = 42;
const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
const workloads: Array<[string, Array<[number, number]>]> = [
  ["256 KiB at random offsets", Array.from({ length: READS }, () => [random(SIZE - 256 * 1024), 256 * 1024])],
  ["1 MiB, one aligned block", Array.from({ length: READS }, () => [random(SIZE / BLOCK) * BLOCK, BLOCK])],
];

const rows: string[] = [];
for (const [name, flags] of variants) {
  const proxy = await startTestProxy(backend, { prefetch: false, ...flags });
  const read = async (start: number, length: number) => {
    const res = await fetch(`${proxy.endpoint}/${backend.bucket}/${KEY}`, { headers: { range: `bytes=${start}-${start + length - 1}` } });
    if ((await res.bytes()).byteLength !== length) throw new Error(`${name}: short read`);
  };
  for (let start = 0; start < SIZE; start += BLOCK) await read(start, BLOCK); // warm every block
  for (const tier of proxy.cache?.tiers ?? []) await tier.flush();
  const cells: string[] = [];
  for (const [, reads] of workloads) {
    const times: number[] = [];
    for (const [start, length] of reads) {
      const t0 = Bun.nanoseconds();
      await read(start, length);
      times.push((Bun.nanoseconds() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
    cells.push(`${at(0.5)} / ${at(0.99)}`);
  }
  rows.push(`| ${name} | ${cells.join(" | ")} |`);
  await proxy.stop();
}

// The tiers alone, no HTTP: getBlock of a stored 1 MiB block (checksum or length check included).
const direct: string[] = [];
for (const [name, open] of [
  ["disk", () => DiskTier.open({ dir: join(dir, "direct"), limitBytes: 1024 ** 3, namespace: "bench", log: console })],
  ["redis", () => RedisTier.open({ url: redis.url, namespace: "bench", metaTtlMs: 60_000, blockTtlMs: 3600_000, timeoutMs: 1000, retryAfterMs: 1000, log: console })],
] as const) {
  const tier = await open();
  for (let i = 0; i < 32; i++) {
    tier.putBlock(`b${i}`, randomBytes(BLOCK, i + 1));
    await tier.flush();
  }
  const times: number[] = [];
  for (let i = 0; i < READS; i++) {
    const t0 = Bun.nanoseconds();
    if (!(await tier.getBlock(`b${random(32)}`, BLOCK))) throw new Error(`${name}: miss`);
    times.push((Bun.nanoseconds() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  direct.push(`| ${name} | ${times[Math.floor(times.length / 2)]!.toFixed(2)} | ${times[Math.floor(times.length * 0.99)]!.toFixed(2)} |`);
  await tier.close();
}

console.log(`getBlock of a 1 MiB block, ${READS} times (ms):\n\n| tier | p50 | p99 |\n|---|---|---|\n${direct.join("\n")}\n`);
console.log(`${READS} sequential range reads per workload from a ${SIZE / 1024 ** 2} MiB object, 1 MiB blocks; p50 / p99 latency in ms:\n`);
console.log(`| answered by | ${workloads.map(([w]) => w).join(" | ")} |\n|---|${workloads.map(() => "---|").join("")}`);
console.log(rows.join("\n"));
await redis.stop();
await backend.stop();
rmSync(dir, { recursive: true, force: true });
