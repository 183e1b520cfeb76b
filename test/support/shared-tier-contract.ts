/**
 * What every shared tier (one Redis server, a Redis Cluster) does beyond the tier contract:
 * an invalidation sent through one proxy's tier is heard by the others, never by itself,
 * and the metadata it names is gone for everyone.
 */
import { describe, expect, test } from "bun:test";
import type { CacheTier, Invalidation, StoredMeta } from "../../src/cache/tier.ts";

const stored = (etag: string): StoredMeta => ({ meta: { size: 1, etag, headers: [], cacheable: true }, learnedAt: Date.now() });

const WARM_UP = "warm-up";
const isWarmUp = (c: Invalidation) => "bucket" in c && c.bucket === WARM_UP;

/** Collects into `heard` (warm-ups apart), and `wait(n)` resolves once it holds `n` entries (bounded by the test's timeout). */
function hearing(tier: CacheTier, heard: Invalidation[], warmedUp?: () => void): (n: number) => Promise<void> {
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  tier.onInvalidate!((change) => {
    if (isWarmUp(change)) return warmedUp?.();
    heard.push(change);
    for (const w of waiters) if (heard.length >= w.n) w.resolve();
  });
  return (n) => (heard.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })));
}

export function sharedTierContract(name: string, open: (namespace: string) => Promise<CacheTier>): void {
  describe(`${name} shared tier contract`, () => {
    test("a key or bucket invalidated through one proxy's tier is heard by the others, not by itself", async () => {
      const ns = `http://shared-${name}-${crypto.randomUUID()}/`;
      const one = await open(ns);
      const two = await open(ns);
      const heardByOne: Invalidation[] = [];
      const heardByTwo: Invalidation[] = [];
      hearing(one, heardByOne);
      let warm = false;
      const warmedUp = Promise.withResolvers<void>();
      const twoHeard = hearing(two, heardByTwo, () => {
        warm = true;
        warmedUp.resolve();
      });
      // A cluster subscribes once its slot map is ready, which may be just after open: announce until heard, bounded.
      for (let i = 0; i < 100 && !warm; i++) {
        one.invalidateBucket!(WARM_UP);
        await one.flush();
        await Promise.race([warmedUp.promise, Bun.sleep(20)]);
      }
      expect(warm).toBe(true);

      one.putMeta("bucket\u0000key\u0000", stored('"1"'));
      await one.flush();
      expect(await two.getMeta("bucket\u0000key\u0000")).toBeDefined();
      one.deleteMeta("bucket\u0000key\u0000");
      await one.flush();
      one.invalidateBucket!("bucket");
      await one.flush();
      await twoHeard(2);
      // A cluster sends each PUBLISH to some master, which broadcasts it: two messages may arrive in either order.
      expect(heardByTwo).toHaveLength(2);
      expect(heardByTwo).toContainEqual({ id: "bucket\u0000key\u0000" });
      expect(heardByTwo).toContainEqual({ bucket: "bucket" });
      expect(heardByOne).toEqual([]);
      expect(await two.getMeta("bucket\u0000key\u0000")).toBeUndefined();
      await one.close();
      await two.close();
    });
  });
}
