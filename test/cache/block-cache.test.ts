import { expect, test } from "bun:test";
import { BlockCache, joinParts, type FetchRange, type ObjectVersion } from "../../src/cache/block-cache.ts";
import { LruStore } from "../../src/cache/lru.ts";
import { CacheStats } from "../../src/cache/stats.ts";

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
  return { fetches, fetchRange };
}

function cache(limit = 1024) {
  const store = new LruStore(limit);
  return { store, blocks: new BlockCache(store, BLOCK, new CacheStats()) };
}

const range = (start: number, end: number) => ({ start, end });

test("a miss is answered as soon as its bytes arrived, while the rest of the block still fills", async () => {
  const { store, blocks } = cache();
  const backend = controlledBackend();
  const read = blocks.read(object, range(2, 5), backend.fetchRange);
  await Bun.sleep(1);
  expect(backend.fetches.map((f) => [f.start, f.end])).toEqual([[0, 15]]);
  backend.fetches[0]!.send(content.subarray(0, 6));
  const answer = await read;
  expect([...joinParts(answer.parts)]).toEqual([...content.subarray(2, 6)]);
  expect(answer.fetchedBlocks).toBe(1);
  expect(store.size).toBe(0);
  backend.fetches[0]!.send(content.subarray(6, 16));
  backend.fetches[0]!.finish();
  await Bun.sleep(1);
  expect([...joinParts(blocks.readCached(object, range(0, 15))!)]).toEqual([...content.subarray(0, 16)]);
});

test("readers of a block already being filled wait for that fill instead of fetching again", async () => {
  const { blocks } = cache();
  const backend = controlledBackend();
  const reads = [blocks.read(object, range(0, 3), backend.fetchRange), blocks.read(object, range(10, 20), backend.fetchRange), blocks.read(object, range(0, 39), backend.fetchRange)];
  await Bun.sleep(1);
  // The first read fetched block 0; the second waits for it and fetches block 1; the third waits for both and fetches block 2.
  expect(backend.fetches.map((f) => [f.start, f.end])).toEqual([[0, 15], [16, 31], [32, 39]]);
  for (const f of backend.fetches) {
    f.send(content.subarray(f.start, f.end + 1));
    f.finish();
  }
  const [a, b, c] = await Promise.all(reads);
  expect([...joinParts(a!.parts)]).toEqual([...content.subarray(0, 4)]);
  expect([...joinParts(b!.parts)]).toEqual([...content.subarray(10, 21)]);
  expect([...joinParts(c!.parts)]).toEqual([...content]);
});

test("a run that fails mid-way keeps the blocks that arrived whole, fails its readers and frees its reservation", async () => {
  const { store, blocks } = cache();
  const backend = controlledBackend();
  const read = blocks.read(object, range(0, 39), backend.fetchRange);
  await Bun.sleep(1);
  const fill = backend.fetches[0]!;
  expect([fill.start, fill.end]).toEqual([0, 39]);
  expect(store.bytesReserved).toBe(40);
  fill.send(content.subarray(0, 20));
  fill.error(new Error("connection reset"));
  await expect(read).rejects.toThrow("connection reset");
  expect(store.bytesReserved).toBe(0);
  expect(store.bytesHeld).toBe(16);
  // The failed blocks are fetched again by the next reader; the stored one is not.
  const again = blocks.read(object, range(0, 39), backend.fetchRange);
  await Bun.sleep(1);
  expect(backend.fetches.slice(1).map((f) => [f.start, f.end])).toEqual([[16, 39]]);
  backend.fetches[1]!.send(content.subarray(16));
  backend.fetches[1]!.finish();
  expect([...joinParts((await again).parts)]).toEqual([...content]);
});

test("a backend body of the wrong length is never stored or served", async () => {
  const { store, blocks } = cache();
  const backend = controlledBackend();
  const read = blocks.read(object, range(32, 39), backend.fetchRange);
  await Bun.sleep(1);
  backend.fetches[0]!.send(content.subarray(32, 39));
  backend.fetches[0]!.finish();
  await expect(read).rejects.toThrow("7 bytes for a 8-byte cache fill");
  expect(store.size).toBe(0);
  expect(store.bytesReserved).toBe(0);
});

test("a range over several cached blocks comes back as views of those blocks, trimmed at both ends", async () => {
  const { blocks } = cache();
  const backend = controlledBackend();
  const warm = blocks.read(object, range(0, 39), backend.fetchRange);
  await Bun.sleep(1);
  backend.fetches[0]!.send(content);
  backend.fetches[0]!.finish();
  await warm;
  const parts = blocks.readCached(object, range(5, 35))!;
  expect(parts.map((p) => p.byteLength)).toEqual([11, 16, 4]);
  expect([...joinParts(parts)]).toEqual([...content.subarray(5, 36)]);
  expect(blocks.readCached({ ...object, etag: '"other"' }, range(5, 35))).toBeUndefined();
});
