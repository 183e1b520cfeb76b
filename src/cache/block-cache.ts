/**
 * Object bytes cut into fixed, aligned blocks, keyed by object version (ETag or version id)
 * so bytes of two versions can never be mixed. A read is answered from the blocks it
 * touches; each contiguous run of missing blocks is fetched with one upstream request, and
 * concurrent reads of a block that is being fetched wait for that fetch (coalescing). A fill
 * that fails fails every waiter and caches nothing. No I/O here: fetching is injected.
 */
import { S3Error } from "../s3/errors.ts";
import type { ByteRange } from "../s3/range.ts";
import type { LruStore } from "./lru.ts";
import type { FillBudget } from "./fill-budget.ts";
import type { CacheStats } from "./stats.ts";
import { blockFromTiers, type CacheTier } from "./tier.ts";

/** The object version a block belongs to. */
export interface ObjectVersion {
  bucket: string;
  key: string;
  versionId?: string;
  etag: string;
  size: number;
}

/** Fetch exactly `range` of the object version (pinned to its ETag); rejects on any mismatch. */
export type FetchRange = (object: ObjectVersion, range: ByteRange) => Promise<Uint8Array>;

export interface BlockRead {
  bytes: Uint8Array;
  /** Blocks answered from the cache (memory or a lower tier) and blocks that needed (or waited for) a backend fetch. */
  cachedBlocks: number;
  fetchedBlocks: number;
}

export function blockKey(o: ObjectVersion, index: number): string {
  return `${o.bucket}\u0000${o.key}\u0000${o.versionId ?? ""}\u0000${o.etag}\u0000${index}`;
}

export class BlockCache {
  private readonly inFlight = new Map<string, Promise<Uint8Array>>();

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

  /** The range when every block it touches is in memory (the hit path: no promise, no copy for one block). */
  readCached(o: ObjectVersion, range: ByteRange): Uint8Array | undefined {
    const first = Math.floor(range.start / this.blockSize);
    const last = Math.floor(range.end / this.blockSize);
    if (first === last) return this.store.get(blockKey(o, first))?.subarray(range.start - first * this.blockSize, range.end - first * this.blockSize + 1);
    const blocks: Uint8Array[] = [];
    for (let i = first; i <= last; i++) {
      const block = this.store.get(blockKey(o, i));
      if (!block) return undefined;
      blocks.push(block);
    }
    return this.slice(blocks, range, first);
  }

  /** Read a range, from memory where possible. */
  async read(o: ObjectVersion, range: ByteRange, fetchRange: FetchRange): Promise<BlockRead> {
    const first = Math.floor(range.start / this.blockSize);
    const last = Math.floor(range.end / this.blockSize);
    const parts: Array<Uint8Array | Promise<Uint8Array>> = [];
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
        this.fill(o, runStart, i - 1, fetchRange, fromTiers).forEach((p) => parts.push(p));
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
    const blocks = await Promise.all(parts);
    cachedBlocks += fromTiers.blocks;
    return { bytes: this.slice(blocks, range, first), cachedBlocks, fetchedBlocks: blocks.length - cachedBlocks };
  }

  /**
   * Register blocks whose bytes are already on their way (the body of a response that
   * discovered the object), so concurrent readers wait for them instead of fetching.
   */
  adopt(o: ObjectVersion, first: number, last: number, body: Promise<Uint8Array>): Promise<Uint8Array>[] {
    return this.track(
      o,
      first,
      last,
      body.then((bytes) => {
        this.stats.bytesFromUpstream += bytes.byteLength;
        this.writeBack(o, first, last, bytes);
        return bytes;
      }),
    );
  }

  /** Fill a run of missing blocks; `fromTiers` counts those the lower tiers supplied. */
  private fill(o: ObjectVersion, first: number, last: number, fetchRange: FetchRange, fromTiers: { blocks: number }): Promise<Uint8Array>[] {
    const range = { start: first * this.blockSize, end: Math.min((last + 1) * this.blockSize, o.size) - 1 };
    const body = this.tiers.length === 0 ? this.fetch(o, range, fetchRange) : this.fromTiersOrFetch(o, first, last, range, fetchRange, fromTiers);
    return this.track(o, first, last, body);
  }

  private async fetch(o: ObjectVersion, range: ByteRange, fetchRange: FetchRange): Promise<Uint8Array> {
    const taken = await this.budget?.acquire(range.end - range.start + 1);
    try {
      const bytes = await fetchRange(o, range);
      this.stats.bytesFromUpstream += bytes.byteLength;
      return bytes;
    } finally {
      if (taken !== undefined) this.budget!.release(taken);
    }
  }

  /** The run from the lower tiers when they hold all of it; else one backend fetch, written back. */
  private async fromTiersOrFetch(o: ObjectVersion, first: number, last: number, range: ByteRange, fetchRange: FetchRange, fromTiers: { blocks: number }): Promise<Uint8Array> {
    const found = await Promise.all(Array.from({ length: last - first + 1 }, (_, n) => blockFromTiers(this.tiers, blockKey(o, first + n), this.blockLength(o, first + n))));
    if (found.every((b) => b !== undefined)) {
      this.stats.bytesFromTiers += range.end - range.start + 1;
      fromTiers.blocks += found.length;
      return found.length === 1 ? found[0]! : concat(found as Uint8Array[]);
    }
    const bytes = await this.fetch(o, range, fetchRange);
    this.writeBack(o, first, last, bytes);
    return bytes;
  }

  /** Hand a run's blocks to the lower tiers, which store them in the background. */
  private writeBack(o: ObjectVersion, first: number, last: number, bytes: Uint8Array): void {
    for (let i = first; i <= last && this.tiers.length > 0; i++) {
      const offset = (i - first) * this.blockSize;
      const block = bytes.slice(offset, offset + this.blockLength(o, i));
      for (const tier of this.tiers) tier.putBlock(blockKey(o, i), block);
    }
  }

  /** One promise per block of the run; stored on arrival, within a byte reservation. */
  private track(o: ObjectVersion, first: number, last: number, body: Promise<Uint8Array>): Promise<Uint8Array>[] {
    const start = first * this.blockSize;
    const length = Math.min((last + 1) * this.blockSize, o.size) - start;
    const reserved = this.store.reserve(length) ? length : 0;
    const run = body.then((bytes) => {
      if (bytes.byteLength !== length) throw new S3Error("BadGateway", `The backend sent ${bytes.byteLength} bytes for a ${length}-byte cache fill`);
      return bytes;
    });
    const blocks: Promise<Uint8Array>[] = [];
    for (let i = first; i <= last; i++) {
      const key = blockKey(o, i);
      const offset = (i - first) * this.blockSize;
      const blockLength = this.blockLength(o, i);
      const block = run.then((bytes) => {
        // A buffer of its own per block, so evicting one frees exactly its bytes; a
        // one-block run that already owns its whole buffer is kept as is.
        const own = first === last && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice(offset, offset + blockLength);
        this.store.set(key, own, reserved ? blockLength : 0);
        return own;
      });
      block.catch(() => {}).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, block);
      blocks.push(block);
    }
    if (reserved) run.catch(() => this.store.release(reserved));
    return blocks;
  }

  private slice(blocks: Uint8Array[], range: ByteRange, first: number): Uint8Array {
    const base = first * this.blockSize;
    const from = range.start - base;
    const length = range.end - range.start + 1;
    if (blocks.length === 1) return blocks[0]!.subarray(from, from + length);
    const out = new Uint8Array(length);
    let written = 0;
    let skip = from;
    for (const block of blocks) {
      if (skip >= block.byteLength) {
        skip -= block.byteLength;
        continue;
      }
      const piece = block.subarray(skip, Math.min(block.byteLength, skip + length - written));
      out.set(piece, written);
      written += piece.byteLength;
      skip = 0;
      if (written === length) break;
    }
    return out;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
