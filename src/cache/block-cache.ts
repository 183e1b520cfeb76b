/**
 * Object bytes cut into fixed, aligned blocks, keyed by object version (ETag or version id)
 * so bytes of two versions can never be mixed. A read is answered from the blocks it
 * touches; each contiguous run of missing blocks is fetched with one upstream request, and
 * concurrent reads of a block that is being fetched wait for that fetch (coalescing). A read
 * waits only for the bytes it needs, so a miss is answered as soon as its range has arrived
 * and the rest of the block fills behind it. A block is stored once all of it arrived; a fill
 * that fails fails every reader still waiting and stores nothing more. No I/O here: fetching
 * is injected.
 */
import type { ByteRange } from "../s3/range.ts";
import type { LruStore } from "./lru.ts";
import type { FillBudget } from "./fill-budget.ts";
import type { CacheStats } from "./stats.ts";
import { RunFill, type BlockFill } from "./run-fill.ts";
import { blockFromTiers, type CacheTier } from "./tier.ts";

/** The object version a block belongs to. */
export interface ObjectVersion {
  bucket: string;
  key: string;
  versionId?: string;
  etag: string;
  size: number;
}

/** A body arriving in pieces: a backend response's stream, or bytes already in hand. */
export type Chunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Fetch exactly `range` of the object version (pinned to its ETag). Resolves once the backend
 * answered with the right object and range; its length is checked as the body arrives.
 */
export type FetchRange = (object: ObjectVersion, range: ByteRange) => Promise<Chunks>;

export interface BlockRead {
  /** The range as views of the blocks it touches, in order (no copy: the caller joins them once, if at all). */
  parts: Uint8Array[];
  /** Blocks answered from the cache (memory or a lower tier) and blocks that needed (or waited for) a backend fetch. */
  cachedBlocks: number;
  fetchedBlocks: number;
}

export function blockKey(o: ObjectVersion, index: number): string {
  return `${o.bucket}\u0000${o.key}\u0000${o.versionId ?? ""}\u0000${o.etag}\u0000${index}`;
}

export class BlockCache {
  private readonly inFlight = new Map<string, BlockFill>();

  constructor(
    private readonly store: LruStore,
    readonly blockSize: number,
    private readonly stats: CacheStats,
    /** Lower tiers (disk, Redis), consulted before the backend and written back after it. */
    private readonly tiers: readonly CacheTier[] = [],
    /** Bounds the bytes of backend fills in flight; unbounded when absent. */
    private readonly budget?: FillBudget,
  ) {}

  blockLength(o: ObjectVersion, index: number): number {
    return Math.min(this.blockSize, o.size - index * this.blockSize);
  }

  lastBlock(o: ObjectVersion): number {
    return Math.max(0, Math.ceil(o.size / this.blockSize) - 1);
  }

  /** The range when every block it touches is in memory (the hit path: no promise, no copy). */
  readCached(o: ObjectVersion, range: ByteRange): Uint8Array[] | undefined {
    const first = Math.floor(range.start / this.blockSize);
    const last = Math.floor(range.end / this.blockSize);
    if (first === last) {
      const block = this.store.get(blockKey(o, first));
      return block && [block.subarray(range.start - first * this.blockSize, range.end - first * this.blockSize + 1)];
    }
    const blocks: Uint8Array[] = [];
    for (let i = first; i <= last; i++) {
      const block = this.store.get(blockKey(o, i));
      if (!block) return undefined;
      blocks.push(block);
    }
    return this.slice(blocks, range, first);
  }

  /** Read a range, from memory where possible, as soon as its bytes are in. */
  async read(o: ObjectVersion, range: ByteRange, fetchRange: FetchRange): Promise<BlockRead> {
    const first = Math.floor(range.start / this.blockSize);
    const last = Math.floor(range.end / this.blockSize);
    const parts: Array<Uint8Array | BlockFill> = [];
    let cachedBlocks = 0;
    const fromTiers = { blocks: 0 };
    let runStart = -1;
    for (let i = first; i <= last + 1; i++) {
      const key = i <= last ? blockKey(o, i) : "";
      const cached = i <= last ? this.store.get(key) : undefined;
      const pending = i <= last && !cached ? this.inFlight.get(key) : undefined;
      const missing = i <= last && !cached && !pending;
      if (missing && runStart === -1) runStart = i;
      if (!missing && runStart !== -1) {
        parts.push(...this.fill(o, runStart, i - 1, fetchRange, fromTiers));
        runStart = -1;
      }
      if (cached) {
        parts.push(cached);
        cachedBlocks++;
      } else if (pending) {
        parts.push(pending);
        this.stats.coalescedWaits++;
      }
    }
    // Of the last block only the bytes up to the range's end are needed; of the others, all.
    const blocks = await Promise.all(parts.map((p, n) => (p instanceof Uint8Array ? p : p.reach(first + n === last ? range.end - last * this.blockSize + 1 : p.length))));
    cachedBlocks += fromTiers.blocks;
    return { parts: this.slice(blocks, range, first), cachedBlocks, fetchedBlocks: blocks.length - cachedBlocks };
  }

  /**
   * Register blocks whose bytes are already on their way (the body of a response that
   * discovered the object), so concurrent readers wait for them instead of fetching.
   */
  adopt(o: ObjectVersion, first: number, last: number, body: Chunks): void {
    const run = this.track(o, first, last);
    this.pump(run, body)
      .then(() => this.writeBack(o, first, run))
      .catch(() => {});
  }

  /** Fill a run of missing blocks; `fromTiers` counts those the lower tiers supplied. */
  private fill(o: ObjectVersion, first: number, last: number, fetchRange: FetchRange, fromTiers: { blocks: number }): BlockFill[] {
    const range = { start: first * this.blockSize, end: Math.min((last + 1) * this.blockSize, o.size) - 1 };
    const run = this.track(o, first, last);
    const filling = this.tiers.length === 0 ? this.fetch(run, o, range, fetchRange) : this.fromTiersOrFetch(run, o, first, last, range, fetchRange, fromTiers);
    filling.catch((err) => run.fail(err));
    return run.blocks;
  }

  private async fetch(run: RunFill, o: ObjectVersion, range: ByteRange, fetchRange: FetchRange): Promise<void> {
    const taken = await this.budget?.acquire(range.end - range.start + 1);
    try {
      await this.pump(run, await fetchRange(o, range));
    } finally {
      if (taken !== undefined) this.budget!.release(taken);
    }
    this.writeBack(o, range.start / this.blockSize, run);
  }

  /** Hand a run fetched from the backend to the lower tiers, which store it in the background. */
  private writeBack(o: ObjectVersion, first: number, run: RunFill): void {
    for (const tier of this.tiers) run.blocks.forEach((block, n) => tier.putBlock(blockKey(o, first + n), block.bytes!));
  }

  /** Feed a backend body into a run, counting its bytes; a body of the wrong length fails it. */
  private async pump(run: RunFill, body: Chunks): Promise<void> {
    try {
      for await (const chunk of body) {
        this.stats.bytesFromUpstream += chunk.byteLength;
        run.push(chunk);
      }
      run.finish();
    } catch (err) {
      run.fail(err);
      throw err;
    }
  }

  /** The run from the lower tiers when they hold all of it; else one backend fetch, written back. */
  private async fromTiersOrFetch(run: RunFill, o: ObjectVersion, first: number, last: number, range: ByteRange, fetchRange: FetchRange, fromTiers: { blocks: number }): Promise<void> {
    const found = await Promise.all(Array.from({ length: last - first + 1 }, (_, n) => blockFromTiers(this.tiers, blockKey(o, first + n), this.blockLength(o, first + n))));
    if (!found.every((b) => b !== undefined)) return this.fetch(run, o, range, fetchRange);
    this.stats.bytesFromTiers += range.end - range.start + 1;
    fromTiers.blocks += found.length;
    for (const block of found as Uint8Array[]) run.push(block);
    run.finish();
  }

  /** A run's blocks, registered as in flight; each is stored (within a byte reservation) as soon as all its bytes arrived. */
  private track(o: ObjectVersion, first: number, last: number): RunFill {
    const keys = Array.from({ length: last - first + 1 }, (_, n) => blockKey(o, first + n));
    const lengths = keys.map((_, n) => this.blockLength(o, first + n));
    const total = lengths.reduce((a, b) => a + b, 0);
    let unclaimed = this.store.reserve(total) ? total : 0;
    const run = new RunFill(lengths, {
      block: (n, bytes) => {
        const claim = Math.min(unclaimed, bytes.byteLength);
        unclaimed -= claim;
        this.store.set(keys[n]!, bytes, claim);
        this.inFlight.delete(keys[n]!);
      },
      failed: () => {
        this.store.release(unclaimed);
        unclaimed = 0;
        keys.forEach((key, n) => {
          if (this.inFlight.get(key) === run.blocks[n]) this.inFlight.delete(key);
        });
      },
    });
    keys.forEach((key, n) => this.inFlight.set(key, run.blocks[n]!));
    return run;
  }

  /** The range's views of whole blocks: trimmed at the first block's start and the last block's end. */
  private slice(blocks: Uint8Array[], range: ByteRange, first: number): Uint8Array[] {
    const from = range.start - first * this.blockSize;
    const to = range.end - (first + blocks.length - 1) * this.blockSize + 1;
    if (blocks.length === 1) return [blocks[0]!.subarray(from, to)];
    return blocks.map((b, n) => (n === 0 ? b.subarray(from) : n === blocks.length - 1 ? b.subarray(0, to) : b));
  }
}

/** Parts as one buffer (one copy unless there is a single part). */
export function joinParts(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
