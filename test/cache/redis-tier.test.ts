/**
 * The Redis tier against a real redis-server: the tier contract, then what only a shared,
 * remote tier does — TTLs, namespaces, invalidation heard by other proxies, and an outage
 * or a hung server answered as misses within the timeout, logged once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisTier, type RedisTierOptions } from "../../src/cache/redis-tier.ts";
import type { StoredMeta } from "../../src/cache/tier.ts";
import { randomBytes } from "../support/clients.ts";
import { startRedis, type TestRedis } from "../support/redis.ts";
import { sharedTierContract } from "../support/shared-tier-contract.ts";
import { tierContract } from "../support/tier-contract.ts";

let redis: TestRedis;
let namespaces = 0;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

function open(extra: Partial<RedisTierOptions> = {}): Promise<RedisTier> {
  return RedisTier.open({
    url: redis.url,
    namespace: `http://backend-${++namespaces}/`,
    metaTtlMs: 60_000,
    blockTtlMs: 3600_000,
    timeoutMs: 250,
    retryAfterMs: 200,
    log: { warn() {}, info() {} },
    ...extra,
  });
}

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(String(await redis.command("INFO", ["memory"])))![1]);

tierContract("redis", () => ({
  open: () => open(),
  bound: 64 * 1024 ** 2,
  held: () => usedMemory(),
}));
sharedTierContract("redis", (namespace) => open({ namespace }));

const stored = (etag: string): StoredMeta => ({ meta: { size: 1, etag, headers: [], cacheable: true }, learnedAt: Date.now() });

describe("shared tier", () => {
  test("blocks and metadata are stored with TTLs: metadata for what is left of the meta TTL", async () => {
    const tier = await open({ metaTtlMs: 30_000 });
    tier.putBlock("b", randomBytes(10, 1));
    tier.putMeta("m", { ...stored('"e"'), learnedAt: Date.now() - 10_000 });
    tier.putMeta("old", { ...stored('"e"'), learnedAt: Date.now() - 40_000 });
    await tier.flush();
    const keys = (await redis.command("KEYS", ["s3proxy:*"])) as string[];
    const ttls = new Map<string, number>();
    for (const k of keys) ttls.set(k.split(":")[1]!, Math.max(ttls.get(k.split(":")[1]!) ?? 0, Number(await redis.command("PTTL", [k]))));
    expect(ttls.get("b")).toBeGreaterThan(3000_000);
    expect(ttls.get("m")).toBeGreaterThan(0);
    expect(ttls.get("m")).toBeLessThanOrEqual(20_000);
    expect(await tier.getMeta("old")).toBeUndefined();
    await tier.close();
  });

  test("keys carry no hash tag, so a cluster spreads them over its slots", async () => {
    const tier = await open();
    for (let i = 0; i < 20; i++) tier.putBlock(`spread-{${i}}`, randomBytes(10, i + 1));
    tier.putMeta("bucket\u0000{key}\u0000", stored('"e"'));
    await tier.flush();
    const keys = (await redis.command("KEYS", ["s3proxy:*"])) as string[];
    expect(keys.length).toBeGreaterThanOrEqual(21);
    expect(keys.filter((k) => k.includes("{") || k.includes("}"))).toEqual([]);
    await tier.close();
  });

  test("two backends sharing one server never see each other's entries", async () => {
    const a = await open();
    const b = await open();
    a.putBlock("same key", randomBytes(100, 1));
    a.putMeta("same id", stored('"a"'));
    await a.flush();
    expect(await b.getBlock("same key", 100)).toBeUndefined();
    expect(await b.getMeta("same id")).toBeUndefined();
    await a.close();
    await b.close();
  });
});

describe("failures are misses", () => {
  test("a killed server turns lookups into misses with one warning, and the tier recovers when it returns", async () => {
    const warnings: string[] = [];
    const infos: string[] = [];
    const tier = await open({ log: { warn: (m) => warnings.push(m), info: (m) => infos.push(m) } });
    tier.putBlock("k", randomBytes(1000, 1));
    await tier.flush();
    expect(await tier.getBlock("k", 1000)).toBeDefined();
    await redis.kill();
    for (let i = 0; i < 20; i++) {
      expect(await tier.getBlock("k", 1000)).toBeUndefined();
      expect(await tier.getMeta("m")).toBeUndefined();
      tier.putBlock("k2", randomBytes(10, 1));
      await Bun.sleep(20);
    }
    expect(warnings.length).toBe(1);
    expect(tier.counters.failures).toBeGreaterThan(0);
    await redis.restart();
    let recovered = false;
    for (let i = 0; i < 100 && !recovered; i++) {
      tier.putBlock("k3", randomBytes(10, 3));
      await tier.flush();
      recovered = (await tier.getBlock("k3", 10)) !== undefined;
      if (!recovered) await Bun.sleep(50);
    }
    expect(recovered).toBe(true);
    expect(infos.some((m) => m.includes("recovered"))).toBe(true);
    expect(warnings.length).toBe(1);
    await tier.close();
  }, 30_000);

  test("a server that is down when the tier opens is a warning, not a failure to start", async () => {
    const warnings: string[] = [];
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const deadPort = probe.port;
    probe.stop(true);
    const tier = await open({ url: `redis://127.0.0.1:${deadPort}`, log: { warn: (m) => warnings.push(m), info() {} } });
    expect(await tier.getBlock("k", 10)).toBeUndefined();
    tier.putBlock("k", randomBytes(10, 1));
    await tier.flush();
    expect(warnings.length).toBe(1);
    await tier.close();
  });

  test("a server that refuses SUBSCRIBE still serves as a cache, with one warning about the invalidation channel", async () => {
    await redis.command("ACL", ["SETUSER", "nosub", "on", "nopass", "~*", "&*", "+@all", "-subscribe"]);
    const warnings: string[] = [];
    const tier = await open({ url: redis.url.replace("redis://", "redis://nosub@"), log: { warn: (m) => warnings.push(m), info() {} } });
    for (let i = 0; i < 5; i++) {
      tier.putBlock(`k${i}`, randomBytes(100, i + 1));
      await tier.flush();
      expect(await tier.getBlock(`k${i}`, 100)).toEqual(randomBytes(100, i + 1));
    }
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain("invalidation channel");
    await tier.close();
  });

  test("a hung server (SIGSTOP) answers within the timeout as a miss", async () => {
    const tier = await open({ timeoutMs: 200 });
    const pid = Number(/process_id:(\d+)/.exec(String(await redis.command("INFO", ["server"])))![1]);
    process.kill(pid, "SIGSTOP");
    try {
      // A call to a stopped server never returns: these answer only thanks to the timeout.
      const answers = await Promise.all(Array.from({ length: 10 }, () => tier.getBlock("k", 10)));
      expect(answers.every((a) => a === undefined)).toBe(true);
      expect(tier.counters.failures).toBeGreaterThan(0);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await tier.close();
  }, 30_000);
});
