/**
 * Bun's RedisClient against ioredis (one node, and ioredis Cluster over three masters):
 * SET and GET of a 1 MiB block, sequentially, on loopback. The shared tier's choice of
 * client rests on these figures (README, Dependencies). Usage: bun scripts/bench/redis-clients.ts [ops]
 */
import { RedisClient } from "bun";
import Redis, { Cluster } from "ioredis";
import { startRedis } from "../../test/support/redis.ts";
import { startRedisCluster } from "../../test/support/redis-cluster.ts";

const ops = Number(process.argv[2] ?? 300);
const block = new Uint8Array(1024 ** 2).map((_, i) => i * 31);
const buf = Buffer.from(block.buffer);

function pct(ms: number[], p: number): string {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(2);
}

async function measure(name: string, set: (k: string) => Promise<unknown>, get: (k: string) => Promise<Uint8Array | null>): Promise<void> {
  for (let i = 0; i < 20; i++) await set(`warm${i}`);
  const setMs: number[] = [];
  const getMs: number[] = [];
  for (let i = 0; i < ops; i++) {
    const t = performance.now();
    await set(`k${i}`);
    setMs.push(performance.now() - t);
  }
  for (let i = 0; i < ops; i++) {
    const t = performance.now();
    const got = await get(`k${i}`);
    getMs.push(performance.now() - t);
    if (got?.byteLength !== block.byteLength) throw new Error(`${name}: wrong length`);
  }
  console.log(`${name.padEnd(26)} SET p50 ${pct(setMs, 50)} ms p99 ${pct(setMs, 99)} ms | GET p50 ${pct(getMs, 50)} ms p99 ${pct(getMs, 99)} ms`);
}

const redis = await startRedis("1gb");
const bun = new RedisClient(redis.url);
await bun.connect();
await measure(
  "bun RedisClient (1 node)",
  (k) => bun.set(k, block, "PX", 600_000),
  (k) => bun.getBuffer(k),
);
bun.close();
const io = new Redis(redis.port, "127.0.0.1");
await measure(
  "ioredis Redis (1 node)",
  (k) => io.set(k, buf, "PX", 600_000),
  (k) => io.getBuffer(k),
);
io.disconnect();
await redis.stop();

const cluster = await startRedisCluster(3, "1gb");
const ioc = new Cluster(cluster.ports.map((port) => ({ host: "127.0.0.1", port })));
await new Promise((r) => ioc.once("ready", r));
await measure(
  "ioredis Cluster (3 masters)",
  (k) => ioc.set(k, buf, "PX", 600_000),
  (k) => ioc.getBuffer(k),
);
ioc.disconnect();
await cluster.stop();
