/**
 * The block cache against the object's known bytes under what real traffic mixes: several
 * objects, concurrent reads of overlapping ranges, bodies arriving in random pieces at random
 * moments, blocks adopted from discoveries over cached and in-flight ones, and a cache small
 * enough that fills evict what reads are collecting. Seeded, so a failure names its seed
 * (FUZZ_SEED=S replays it); the proxy-level fuzzer (test/fuzz/) covers the rest of the path.
 */
import { expect, test } from "bun:test";
import { BlockCache, bytesOf, type Chunks } from "../../src/cache/block-cache.ts";
import { ByteBudget } from "../../src/byte-budget.ts";
import type { ObjectVersion } from "../../src/cache/keys.ts";
import { CacheStats } from "../../src/cache/stats.ts";

const BLOCK = 16 * 1024;
const LIMIT = 192 * 1024;
const ROUNDS = 1500;

/** A small deterministic generator (an LCG): enough to vary the schedule, and replayable. */
function generator(seed: number) {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

async function campaign(seed: number): Promise<string[]> {
  const random = generator(seed);
  const objects = [70_468, 68_590, 27_106, 12_377, 1].map((size, k) => {
    const o: ObjectVersion = { bucket: "b", key: `k${k}`, etag: `"e${k}"`, size };
    return { o, bytes: Uint8Array.from({ length: size }, (_, i) => (i * 31 + k * 7 + (i >> 14)) & 255) };
  });
  const blocks = new BlockCache(LIMIT, BLOCK, new CacheStats(), [], new ByteBudget(LIMIT / 8));
  // Each piece arrives after a microtask or a macrotask, so fills and reads interleave differently.
  const later = () => new Promise<void>((r) => (random() < 0.5 ? queueMicrotask(r) : setImmediate(r)));
  async function* pieces(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < bytes.length; ) {
      await later();
      const n = 1 + Math.floor(random() * 9000);
      yield bytes.subarray(at, at + n);
      at += n;
    }
  }
  const wrong: string[] = [];
  for (let round = 0; round < ROUNDS && wrong.length === 0; round++) {
    const reads: Array<Promise<void>> = [];
    for (let n = 1 + Math.floor(random() * 6); n > 0; n--) {
      const { o, bytes } = objects[Math.floor(random() * objects.length)]!;
      const start = Math.floor(random() * o.size);
      const end = random() < 0.4 ? o.size - 1 : Math.min(o.size - 1, start + Math.floor(random() * 40_000));
      if (random() < 0.15) {
        const first = Math.floor(start / BLOCK);
        const last = Math.floor(end / BLOCK);
        blocks.adopt(o, first, last, pieces(bytes.subarray(first * BLOCK, Math.min(o.size, (last + 1) * BLOCK))) as Chunks);
        continue;
      }
      reads.push(
        (async () => {
          const cached = blocks.readCached(o, { start, end });
          const body = cached ?? (await blocks.read(o, { start, end }, async (_o, r) => pieces(bytes.subarray(r.start, r.end + 1)))).body;
          const got = await bytesOf(body);
          if (Buffer.compare(got, bytes.subarray(start, end + 1)) !== 0) wrong.push(`seed ${seed} round ${round}: ${o.key} bytes=${start}-${end} (${cached ? "cached" : "read"}) gave ${got.byteLength} bytes, not the ${end - start + 1} expected`);
        })(),
      );
    }
    await Promise.all(reads);
  }
  return wrong;
}

const seeds = process.env.FUZZ_SEED ? [Number(process.env.FUZZ_SEED)] : [1, 2, 3, 4];
for (const seed of seeds) {
  test(`seed ${seed}: every read is the object's exact bytes, whatever was adopted, evicted or in flight`, async () => {
    expect(await campaign(seed)).toEqual([]);
  });
}
