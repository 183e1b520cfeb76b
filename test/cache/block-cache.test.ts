import { expect, test } from "bun:test";
import { BlockCache, bytesOf, type FetchRange, type RangeBody } from "../../src/cache/block-cache.ts";
import { blockKey, type ObjectVersion } from "../../src/cache/keys.ts";
import type { ByteRange } from "../../src/s3/range.ts";
import { CacheStats } from "../../src/cache/stats.ts";
import { ByteBudget } from "../../src/byte-budget.ts";

const BLOCK = 16;
const object: ObjectVersion = { bucket: "b", key: "k", etag: '"e"', size: 40 };
const content = Uint8Array.from({ length: object.size }, (_, i) => (i * 13 + 5) & 255);

/** A backend whose answers the test releases piece by piece. */
function controlledBackend() {
  const fetches: Array<{ start: number; end: number; send: (bytes: Uint8Array) => void; finish: () => void; error: (e: Error) => void }> = [];
  const fetchRange: FetchRange = async (_o, range) => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    fetches.push({ ...range, send: (b) => controller.enqueue(b), finish: () => controller.close(), error: (e) => controller.error(e) });
    return body;
  };
  /** Answer every fetch so far with the object's true bytes. */
  const serveAll = () => {
    for (const f of fetches) {
      f.send(content.subarray(f.start, f.end + 1));
      f.finish();
    }
  };
  return { fetches, fetchRange, serveAll };
}

function cache(limit = 1024) {
  const blocks = new BlockCache(limit, BLOCK, new CacheStats());
  return { store: blocks.store, blocks };
}

async function bytes(body: RangeBody | undefined): Promise<number[]> {
  return [...(await bytesOf(body!))];
}

const range = (start: number, end: number) => ({ start, end });

/** A cache with one read of `object` started, and the backend fetch that read is waiting on. */
async function oneRead(r: ByteRange) {
  const { blocks, store } = cache();
  const backend = controlledBackend();
  const read = blocks.read(object, r, backend.fetchRange);
  await Bun.sleep(1);
  return { blocks, store, backend, read, fetch: backend.fetches[0]! };
}

test("a miss is answered as soon as its bytes arrived, while the rest of the block still fills", async () => {
  const { store, blocks, backend, read, fetch } = await oneRead(range(1, 5));
  expect(backend.fetches.map((f) => [f.start, f.end])).toEqual([[0, 15]]);
  fetch.send(content.subarray(0, 6));
  const answer = await read;
  expect(await bytes(answer.body)).toEqual([...content.subarray(1, 6)]);
  expect(answer.fetchedBlocks).toBe(1);
  expect(store.size).toBe(0);
  fetch.send(content.subarray(6, 16));
  fetch.finish();
  await Bun.sleep(1);
  expect(await bytes(blocks.readCached(object, range(0, 15)))).toEqual([...content.subarray(0, 16)]);
});

test("a read starting an eighth of a block or more into the run it fills fetches its own bytes beside the run, and is answered with them first", async () => {
  const { store, blocks, backend, read } = await oneRead(range(6, 9));
  expect(backend.fetches.map((f) => [f.start, f.end])).toEqual([
    [6, 9],
    [0, 15],
  ]);
  const [own, run] = backend.fetches as [(typeof backend.fetches)[0], (typeof backend.fetches)[0]];
  own.send(content.subarray(6, 10));
  own.finish();
  const answer = await read;
  expect(await bytes(answer.body)).toEqual([...content.subarray(6, 10)]);
  expect(answer.fetchedBlocks).toBe(1);
  expect(store.size).toBe(0); // the run is still arriving, for the cache
  run.send(content.subarray(0, 16));
  run.finish();
  await Bun.sleep(1);
  expect(await bytes(blocks.readCached(object, range(0, 15)))).toEqual([...content.subarray(0, 16)]);
});

test("when a read's own fetch fails, it is answered from the run it fills", async () => {
  const { read, backend } = await oneRead(range(6, 9));
  const [own, run] = backend.fetches as [(typeof backend.fetches)[0], (typeof backend.fetches)[0]];
  own.send(content.subarray(6, 8)); // short, then cut
  own.error(new Error("connection reset"));
  run.send(content.subarray(0, 16));
  run.finish();
  expect(await bytes((await read).body)).toEqual([...content.subarray(6, 10)]);
});

test("a long run of missing blocks is fetched in parallel requests of at most the run size (whole blocks)", async () => {
  // Runs of at most 70 bytes: 4 blocks of 16.
  const blocks = new BlockCache(1024, BLOCK, new CacheStats(), [], undefined, 70);
  const large: ObjectVersion = { ...object, key: "large", size: 150 };
  const bytesOfLarge = Uint8Array.from({ length: large.size }, (_, i) => (i * 7 + 1) & 255);
  const fetches: ByteRange[] = [];
  const answer = await blocks.read(large, range(0, 149), async (_o, r) => {
    fetches.push(r);
    return [bytesOfLarge.subarray(r.start, r.end + 1)];
  });
  expect(fetches).toEqual([range(0, 63), range(64, 127), range(128, 149)]);
  expect(await bytes(answer.body)).toEqual([...bytesOfLarge]);
});

test("readers of a block already being filled wait for that fill instead of fetching again", async () => {
  const { blocks } = cache();
  const backend = controlledBackend();
  const reads = [blocks.read(object, range(0, 3), backend.fetchRange), blocks.read(object, range(10, 20), backend.fetchRange), blocks.read(object, range(0, 39), backend.fetchRange)];
  await Bun.sleep(1);
  // The first read fetched block 0; the second waits for it and fetches block 1; the third waits for both and fetches block 2.
  expect(backend.fetches.map((f) => [f.start, f.end])).toEqual([
    [0, 15],
    [16, 31],
    [32, 39],
  ]);
  backend.serveAll();
  const [a, b, c] = await Promise.all(reads);
  expect(await bytes(a!.body)).toEqual([...content.subarray(0, 4)]);
  expect(await bytes(b!.body)).toEqual([...content.subarray(10, 21)]);
  expect(await bytes(c!.body)).toEqual([...content]);
});

test("a run that fails mid-way stores nothing, fails its readers and frees its reservation", async () => {
  const { store, blocks, backend, read, fetch } = await oneRead(range(0, 39));
  expect([fetch.start, fetch.end]).toEqual([0, 39]);
  expect(store.bytesReserved).toBe(40);
  fetch.send(content.subarray(0, 20));
  fetch.error(new Error("connection reset"));
  await expect(read).rejects.toThrow("connection reset");
  expect(store.bytesReserved).toBe(0);
  expect(store.bytesHeld).toBe(0);
  // The next reader fetches the run again.
  const again = blocks.read(object, range(0, 39), backend.fetchRange);
  await Bun.sleep(1);
  expect(backend.fetches.slice(1).map((f) => [f.start, f.end])).toEqual([[0, 39]]);
  backend.fetches[1]!.send(content);
  backend.fetches[1]!.finish();
  expect(await bytes((await again).body)).toEqual([...content]);
});

test("a backend body of the wrong length is never stored or served", async () => {
  const { store, read, fetch } = await oneRead(range(32, 39));
  fetch.send(content.subarray(32, 39));
  fetch.finish();
  await expect(read).rejects.toThrow("7 bytes for a 8-byte cache fill");
  expect(store.size).toBe(0);
  expect(store.bytesReserved).toBe(0);
});

/** Two cached runs of `object`: blocks 0–1 and block 2. */
async function twoRuns(limit?: number) {
  const { blocks, store } = cache(limit);
  const backend = controlledBackend();
  const warm = [blocks.read(object, range(0, 20), backend.fetchRange), blocks.read(object, range(32, 39), backend.fetchRange)];
  await Bun.sleep(1);
  expect(backend.fetches.map((f) => [f.start, f.end])).toEqual([
    [0, 31],
    [32, 39],
  ]);
  backend.serveAll();
  await Promise.all(warm);
  expect(store.size).toBe(2);
  return { blocks, store, backend };
}

test("a range within one cached run is a slice of one Blob; a range over two runs merges them into one", async () => {
  const { blocks, store, backend } = await twoRuns();
  const within = blocks.readCached(object, range(5, 30))!;
  expect(within).toBeInstanceOf(Blob);
  expect(await bytes(within)).toEqual([...content.subarray(5, 31)]);
  expect(await bytes(blocks.readCached(object, range(5, 35)))).toEqual([...content.subarray(5, 36)]);
  expect([store.size, store.bytesHeld]).toEqual([1, 40]);
  expect(await bytes(blocks.readCached(object, range(33, 36)))).toEqual([...content.subarray(33, 37)]);
  const viaRead = await blocks.read(object, range(5, 35), backend.fetchRange);
  expect(viaRead.cachedBlocks).toBe(3);
  expect(await bytes(viaRead.body)).toEqual([...content.subarray(5, 36)]);
  expect(backend.fetches).toHaveLength(2);
  expect(blocks.readCached({ ...object, etag: '"other"' }, range(5, 35))).toBeUndefined();
});

test("a small read across two runs copies only its own bytes and keeps both runs as they are", async () => {
  const { blocks, store } = await twoRuns();
  // 4 of the runs' 40 bytes: merging would copy all 40 for each such read at the edge.
  const edge = blocks.readCached(object, range(30, 33))!;
  expect(await bytes(edge)).toEqual([...content.subarray(30, 34)]);
  expect([store.size, store.bytesHeld]).toEqual([2, 40]);
  expect(store.bytesRemoved).toBe(0);
});

test("runs too large to keep merged (over a quarter of the cache) are joined for the answer only", async () => {
  const { blocks, store } = await twoRuns(100);
  expect(await bytes(blocks.readCached(object, range(5, 35)))).toEqual([...content.subarray(5, 36)]);
  expect([store.size, store.bytesHeld]).toEqual([2, 40]);
});

test("evicting a run forgets all of its blocks and nothing else", async () => {
  const { blocks, store } = cache(40);
  const backend = controlledBackend();
  const other: ObjectVersion = { ...object, key: "k2" };
  const first = blocks.read(object, range(0, 31), backend.fetchRange);
  await Bun.sleep(1);
  backend.fetches[0]!.send(content.subarray(0, 32));
  backend.fetches[0]!.finish();
  await first;
  await Bun.sleep(1);
  const second = blocks.read(other, range(0, 7), backend.fetchRange);
  await Bun.sleep(1);
  backend.fetches[1]!.send(content.subarray(0, 16));
  backend.fetches[1]!.finish();
  await second;
  await Bun.sleep(1);
  // 32 + 16 bytes exceed the limit of 40: the older run (both of its blocks) is evicted.
  expect(store.bytesHeld).toBe(16);
  expect(blocks.readCached(object, range(0, 3))).toBeUndefined();
  expect(blocks.readCached(object, range(20, 23))).toBeUndefined();
  expect(await bytes(blocks.readCached(other, range(0, 7)))).toEqual([...content.subarray(0, 8)]);
});

test("a read that needs all of its fill is answered from the stored extent, not from a copy of its own", async () => {
  const { store, read, fetch } = await oneRead(range(2, 15));
  fetch.send(content.subarray(0, 16));
  await Bun.sleep(1);
  fetch.finish();
  const answer = await read;
  expect(store.size).toBe(1);
  // A slice of the extent's Blob; an answer assembled from the fill's buffer would be its Uint8Array.
  expect(answer.body).toBeInstanceOf(Blob);
  expect(await bytes(answer.body)).toEqual([...content.subarray(2, 16)]);
});

test("a stored fill keeps the pieces it arrived in until its first read joins them into one Blob", async () => {
  const { store, blocks, read, fetch } = await oneRead(range(0, 3));
  fetch.send(content.subarray(0, 4));
  await read;
  fetch.send(content.subarray(4, 9));
  fetch.send(content.subarray(9, 16));
  fetch.finish();
  await Bun.sleep(1);
  const extent = store.get(blockKey(object, 0))!;
  // Stored without a copy: a miss does not pay for the join, nor a block never read again.
  expect(extent.parts.map((p) => (p as Uint8Array).byteLength)).toEqual([4, 5, 7]);
  expect(await bytes(blocks.readCached(object, range(3, 12)))).toEqual([...content.subarray(3, 13)]);
  expect(extent.parts).toHaveLength(1);
  expect(extent.parts[0]).toBeInstanceOf(Blob);
});

test("a read that needs most of its fill waits for the rest of it and is answered from the stored extent", async () => {
  const { blocks, store } = cache();
  const backend = controlledBackend();
  let answered = false;
  const read = blocks.read(object, range(0, 12), backend.fetchRange).then((a) => {
    answered = true;
    return a;
  });
  await Bun.sleep(1);
  backend.fetches[0]!.send(content.subarray(0, 14));
  await Bun.sleep(1);
  // 13 of the fill's 16 bytes are needed: the last 3 are worth waiting for, so the next read finds one joined extent.
  expect(answered).toBe(false);
  backend.fetches[0]!.send(content.subarray(14, 16));
  backend.fetches[0]!.finish();
  const answer = await read;
  expect(store.size).toBe(1);
  expect(answer.body).toBeInstanceOf(Blob);
  expect(store.get(blockKey(object, 0))!.parts).toHaveLength(1);
  expect(await bytes(answer.body)).toEqual([...content.subarray(0, 13)]);
});

test("blocks adopted over cached extents displace the extents they overlap, so a read over them is never a mix", async () => {
  const { blocks, store } = await twoRuns();
  // A re-discovery delivers blocks 1–2 again while 0–1 and 2 are cached.
  blocks.adopt(object, 1, 2, [content.subarray(16, 40)]);
  await Bun.sleep(1);
  expect(await bytes(blocks.readCached(object, range(16, 39)))).toEqual([...content.subarray(16, 40)]);
  const over = blocks.readCached(object, range(0, 39));
  if (over) expect(await bytes(over)).toEqual([...content]);
  // Block 0 went with the extent it shared with block 1.
  expect(over).toBeUndefined();
  expect([store.size, store.bytesHeld]).toEqual([1, 24]);
  // Block 0 again: it abuts the adopted extent, and the range over both is exactly the object.
  const again = await blocks.read(object, range(0, 39), async (_o, r) => [content.subarray(r.start, r.end + 1)]);
  expect(await bytes(again.body)).toEqual([...content]);
  expect(await bytes(blocks.readCached(object, range(0, 39)))).toEqual([...content]);
  expect(await bytes(blocks.readCached(object, range(35, 39)))).toEqual([...content.subarray(35, 40)]);
});

test("a cached extent the read's own fills evict is sliced only for the blocks it stands for, never twice", async () => {
  // Room for three blocks: blocks 2–4 cached as one extent, then a read of the whole object.
  const five: ObjectVersion = { ...object, key: "five", size: 80 };
  const bytes80 = Uint8Array.from({ length: 80 }, (_, i) => (i * 11 + 1) & 255);
  const { blocks, store } = cache(48);
  const serve: FetchRange = async (_o, r) => [bytes80.subarray(r.start, r.end + 1)];
  await blocks.read(five, range(32, 79), serve);
  await Bun.sleep(1);
  expect(store.size).toBe(1);
  // Reserving room for blocks 0–1 evicts the extent of blocks 2–4 while the read is collecting
  // its parts: block 2 comes from that extent, blocks 3 and 4 from a fill of their own.
  const whole = await blocks.read(five, range(0, 79), serve);
  expect(await bytes(whole.body)).toEqual([...bytes80]);
});

test("a fill queued behind the fill budget reserves no room, so it evicts nothing until it starts", async () => {
  const budget = new ByteBudget(BLOCK);
  const blocks = new BlockCache(3 * BLOCK, BLOCK, new CacheStats(), [], budget);
  const backend = controlledBackend();
  const warm = blocks.read(object, range(0, 15), backend.fetchRange);
  await Bun.sleep(1);
  backend.serveAll();
  await warm;
  const other: ObjectVersion = { ...object, key: "k2" };
  // Three cold reads of another object: one fill starts, two wait for the budget.
  const cold = [0, 1, 2].map((b) => blocks.read(other, range(b * BLOCK, b * BLOCK + 3), backend.fetchRange));
  await Bun.sleep(1);
  expect(backend.fetches).toHaveLength(2);
  expect(blocks.store.bytesReserved).toBe(BLOCK);
  expect(await bytes(blocks.readCached(object, range(0, 15)))).toEqual([...content.subarray(0, 16)]);
  for (let served = 1; served < 4; served++) {
    backend.fetches[served]!.send(content.subarray(backend.fetches[served]!.start, backend.fetches[served]!.end + 1));
    backend.fetches[served]!.finish();
    await Bun.sleep(1);
  }
  expect((await Promise.all(cold)).map((r) => r.fetchedBlocks)).toEqual([1, 1, 1]);
  expect(blocks.store.bytesReserved).toBe(0);
});
