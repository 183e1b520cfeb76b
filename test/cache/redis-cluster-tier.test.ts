/**
 * The Redis tier over a real three-master Redis Cluster: the tier contract, blocks spread
 * over every master, and failure per master — a killed master is a miss for its keys only
 * (the others keep hitting), logged once, and used again once it is back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { redisKey } from "../../src/cache/redis-codec.ts";
import { parseClusterSeeds } from "../../src/cache/redis-cluster.ts";
import { RedisTier, type RedisTierOptions } from "../../src/cache/redis-tier.ts";
import { randomBytes } from "../support/clients.ts";
import { startRedisCluster, type TestRedisCluster } from "../support/redis-cluster.ts";
import { sharedTierContract } from "../support/shared-tier-contract.ts";
import { tierContract } from "../support/tier-contract.ts";

let cluster: TestRedisCluster;
let namespaces = 0;

beforeAll(async () => {
  cluster = await startRedisCluster(3, "16mb");
});

afterAll(async () => {
  await cluster?.stop();
});

function open(extra: Partial<RedisTierOptions> = {}): Promise<RedisTier> {
  return RedisTier.open({
    cluster: parseClusterSeeds(cluster.seeds)!,
    namespace: `http://backend-${++namespaces}/`,
    metaTtlMs: 60_000,
    blockTtlMs: 3600_000,
    timeoutMs: 250,
    retryAfterMs: 200,
    log: { warn() {}, info() {} },
    ...extra,
  });
}

const usedMemory = async () => {
  let sum = 0;
  for (let i = 0; i < 3; i++) sum += Number(/used_memory:(\d+)/.exec(await cluster.cli(i, ["INFO", "memory"]))![1]);
  return sum;
};

tierContract("redis-cluster", () => ({
  open: () => open(),
  bound: 3 * 16 * 1024 ** 2,
  held: () => usedMemory(),
}));
sharedTierContract("redis-cluster", (namespace) => open({ namespace }));

describe("cluster", () => {
  test("one object's blocks land on every master", async () => {
    const tier = await open();
    for (let i = 0; i < 30; i++) tier.putBlock(`bucket\u0000obj\u0000"e"\u0000${i}`, randomBytes(100, i + 1));
    await tier.flush();
    const keys = [0, 1, 2].map(async (i) => Number((await cluster.cli(i, ["DBSIZE"])).trim()));
    for (const n of await Promise.all(keys)) expect(n).toBeGreaterThan(0);
    await tier.close();
  });

  test("a killed master is a miss for its keys only, one warning; back, it is used again", async () => {
    const warnings: string[] = [];
    const ns = `http://kill-backend-${++namespaces}/`;
    const tier = await open({ namespace: ns, log: { warn: (m) => warnings.push(m), info() {} } });
    const keys = Array.from({ length: 40 }, (_, i) => `kill-${i}`);
    for (const [i, k] of keys.entries()) tier.putBlock(k, randomBytes(1000, i + 1));
    await tier.flush();
    const victim = cluster.ports[1];
    const onVictim = new Set<string>();
    for (const k of keys) if ((await cluster.portOf(redisKey(ns, "b", k))) === victim) onVictim.add(k);
    expect(onVictim.size).toBeGreaterThan(0);
    expect(onVictim.size).toBeLessThan(keys.length);

    await cluster.kill(1);
    for (let round = 0; round < 3; round++) {
      for (const [i, k] of keys.entries()) {
        const got = await tier.getBlock(k, 1000);
        if (onVictim.has(k)) expect(got).toBeUndefined();
        else expect(got).toEqual(randomBytes(1000, i + 1));
      }
    }
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain(`127.0.0.1:${victim}`);

    await cluster.restart(1);
    // Back but empty: a write to its slots lands and is read back once the tier tries it again.
    const k = [...onVictim][0]!;
    let back = false;
    for (let i = 0; i < 100 && !back; i++) {
      tier.putBlock(k, randomBytes(1000, 99));
      await tier.flush();
      back = (await tier.getBlock(k, 1000)) !== undefined;
      if (!back) await Bun.sleep(50);
    }
    expect(back).toBe(true);
    await tier.close();
  }, 60_000);
});
