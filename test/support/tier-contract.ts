/**
 * The contract every cache tier below memory passes (disk, Redis), run by each tier's own
 * suite against real storage: what goes in comes out byte for byte, anything else is a
 * miss, metadata can be replaced and deleted, and the tier stays within its bound.
 */
import { describe, expect, test } from "bun:test";
import type { CacheTier, StoredMeta } from "../../src/cache/tier.ts";
import { randomBytes } from "./clients.ts";

export interface TierSubject {
  /** A tier over storage no other test of the suite uses. */
  open(): Promise<CacheTier>;
  /** The bytes the tier promises to stay within, and what it holds now. */
  bound: number;
  held(tier: CacheTier): Promise<number>;
}

const meta = (etag: string, learnedAt = Date.now()): StoredMeta => ({
  meta: {
    size: 10,
    etag,
    lastModified: "Wed, 25 Nov 2026 10:00:00 GMT",
    headers: [
      ["etag", etag],
      ["content-type", "application/x-parquet"],
    ],
    cacheable: true,
  },
  learnedAt,
});

export function tierContract(name: string, subject: () => TierSubject): void {
  async function withTier(run: (tier: CacheTier) => Promise<void>): Promise<void> {
    const tier = await subject().open();
    try {
      await run(tier);
    } finally {
      await tier.close();
    }
  }

  describe(`${name} tier contract`, () => {
    test("a stored block comes back byte for byte; an unknown key is a miss", () =>
      withTier(async (tier) => {
        const bytes = randomBytes(100_000, 7);
        tier.putBlock('bucket\u0000a.parquet\u0000\u0000"e1"\u00000', bytes);
        await tier.flush();
        expect(await tier.getBlock('bucket\u0000a.parquet\u0000\u0000"e1"\u00000', bytes.length)).toEqual(bytes);
        expect(await tier.getBlock('bucket\u0000a.parquet\u0000\u0000"e1"\u00001', bytes.length)).toBeUndefined();
        expect(await tier.getBlock('bucket\u0000a.parquet\u0000\u0000"e2"\u00000', bytes.length)).toBeUndefined();
      }));

    test("a block asked for with another length is a miss, never a short or long answer", () =>
      withTier(async (tier) => {
        tier.putBlock("k-len", randomBytes(4096, 3));
        await tier.flush();
        expect(await tier.getBlock("k-len", 4097)).toBeUndefined();
        expect(await tier.getBlock("k-len", 4095)).toBeUndefined();
      }));

    test("storing a block again under its key keeps one exact copy", () =>
      withTier(async (tier) => {
        const bytes = randomBytes(8192, 11);
        tier.putBlock("k-twice", bytes);
        tier.putBlock("k-twice", bytes);
        await tier.flush();
        tier.putBlock("k-twice", bytes);
        await tier.flush();
        expect(await tier.getBlock("k-twice", bytes.length)).toEqual(bytes);
      }));

    test("metadata round-trips, a newer put replaces it, and a delete removes it", () =>
      withTier(async (tier) => {
        const first = meta('"v1"');
        tier.putMeta("bucket\u0000key\u0000", first);
        await tier.flush();
        expect(await tier.getMeta("bucket\u0000key\u0000")).toEqual(first);
        expect(await tier.getMeta("bucket\u0000other\u0000")).toBeUndefined();
        const second = meta('"v2"');
        tier.putMeta("bucket\u0000key\u0000", second);
        await tier.flush();
        expect(await tier.getMeta("bucket\u0000key\u0000")).toEqual(second);
        tier.deleteMeta("bucket\u0000key\u0000");
        await tier.flush();
        expect(await tier.getMeta("bucket\u0000key\u0000")).toBeUndefined();
      }));

    test(
      "writing more than its bound leaves the tier within the bound, newest block kept",
      () =>
        withTier(async (tier) => {
          const { bound, held } = subject();
          const block = 1024 ** 2;
          const count = Math.ceil((bound * 1.25) / block);
          for (let i = 0; i < count; i++) {
            tier.putBlock(`k-bound-${i}`, randomBytes(block, i + 1));
            await tier.flush();
          }
          expect(await held(tier)).toBeLessThanOrEqual(bound);
          expect(await tier.getBlock(`k-bound-${count - 1}`, block)).toEqual(randomBytes(block, count));
          let kept = 0;
          for (let i = 0; i < count; i++) if (await tier.getBlock(`k-bound-${i}`, block)) kept++;
          expect(kept).toBeLessThan(count);
        }),
      30_000,
    );
  });
}
