/**
 * Object bytes cached in fixed, aligned blocks, keyed by object version (ETag or version id)
 * so bytes of two versions can never be mixed. A read is answered from the blocks it
 * touches; each contiguous run of missing blocks is fetched with one upstream request, and
 * concurrent reads of a block that is being fetched wait for that fetch (coalescing). A read
 * waits only for the bytes it needs, so a miss is answered as soon as its range has arrived
 * and the rest of the block fills behind it. A fill that fails fails every reader still
 * waiting and stores nothing. No I/O here: fetching is injected.
 *
 * A completed fill is kept as an extent of consecutive blocks, joined into one Blob when it
 * is first read, and the LRU evicts whole extents. Bun sends a slice of a Blob without
 * copying it, where a Uint8Array body is copied into fresh memory for every response, and
 * fresh memory is what large answers cost most here (page faults); so a read within one
 * extent, such as an engine reading the same column chunk again, is answered without
 * copying a byte.
 *
 * Invariants kept here:
 *  - a block belongs to exactly one object version (its key names the ETag, keys.ts);
 *  - no block belongs to two indexed extents, and an indexed extent is stored under its
 *    first block's key (see keep), so the extents met walking a range abut;
 *  - an extent's byte offset is its first block times the block size, and its length the
 *    sum of its blocks' lengths: a fill whose body has another length is dropped (run-fill.ts);
 *  - a block in flight is unregistered only by the run that registered it;
 *  - a read answers each block from the one part it collected for it: an extent it found may
 *    be evicted by the read's own fill reservations while it collects, so it never assumes
 *    an extent still stands for blocks it did not look up.
 */
import type { ByteRange } from "../s3/range.ts";
import { LruStore } from "./lru.ts";
import type { ByteBudget } from "../byte-budget.ts";
import type { CacheStats } from "./stats.ts";
import { BlockFill, RunFill } from "./run-fill.ts";
import { blockFromTiers, type CacheTier } from "./tier.ts";
import { blockKey, type ObjectVersion } from "./keys.ts";

/** A body arriving in pieces: a backend response's stream, or bytes already in hand. */
export type Chunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Fetch exactly `range` of the object version (pinned to its ETag). Resolves once the backend
 * answered with the right object and range; its length is checked as the body arrives.
 */
export type FetchRange = (object: ObjectVersion, range: ByteRange) => Promise<Chunks>;

/** A range's bytes: a slice of one cached extent (no copy), or bytes joined from several sources. */
export type RangeBody = Blob | Uint8Array;

export interface BlockRead {
  body: RangeBody;
  /** Blocks answered from the cache (memory or a lower tier). */
  cachedBlocks: number;
  /** Blocks that arrived with a backend fetch another read started (coalesced). */
  joinedBlocks: number;
  /** Blocks this read fetched from the backend. */
  fetchedBlocks: number;
}

/** The share of its fills' bytes a read must need to wait for all of them (see read). */
const MOSTLY = 0.75;

/**
 * A small read (at most CLIENT_FIRST_MAX of a block) whose bytes start at least
 * CLIENT_FIRST_AFTER of a block into a run it fills fetches them on their own as well,
 * beside the run, when the fill budget has room for them at once: on a link that paces each
 * connection, the client would otherwise wait for the run's bytes before its own (at
 * 80 MiB/s, 1.6 ms for an eighth of a 1 MiB block). Large reads gain less and would double
 * the bytes in flight.
 */
const CLIENT_FIRST_AFTER = 1 / 8;
const CLIENT_FIRST_MAX = 1 / 4;

/**
 * Extents a read crosses are merged into one only when the read covers at least this share
 * of their bytes. An engine re-reading a column chunk gets a slice next time; a small read at
 * the edge of a large extent copies just its own bytes, where a merge would copy the whole
 * extent again on every such read (random reads next to a growing extent copy it over and over).
 */
const MERGE_COVER = 1 / 2;

/** A run of missing blocks is fetched in requests of at most this many bytes (at least one block each), in parallel: one paced connection is slower than several. */
const MAX_RUN_BYTES = 1024 * 1024;

/**
 * Blocks `first` to `end - 1` of one object version, cached together. The pieces a fill
 * arrived in are joined into one Blob on the extent's first read, not when it is stored:
 * the join is a copy into fresh memory (page faults cost more than the bytes here), and a
 * miss should not pay it, nor a block that is never read again.
 */
export class Extent {
  constructor(
    readonly object: ObjectVersion,
    readonly first: number,
    readonly end: number,
    /** Byte offset of the extent's first block in the object. */
    readonly start: number,
    readonly byteLength: number,
    private content: Blob | readonly Uint8Array[],
  ) {}

  /** The bytes as one Blob (joined on first use). */
  get blob(): Blob {
    if (!(this.content instanceof Blob)) this.content = new Blob(this.content as Uint8Array[]);
    return this.content;
  }

  /** The bytes as they are held: one Blob, or the pieces not yet joined. */
  get parts(): ReadonlyArray<Blob | Uint8Array> {
    return this.content instanceof Blob ? [this.content] : this.content;
  }

  /** The part of `range` this extent holds, as a slice of its Blob (no copy once joined). */
  slice(range: ByteRange): Blob {
    return this.blob.slice(Math.max(range.start, this.start) - this.start, Math.min(range.end + 1, this.start + this.byteLength) - this.start);
  }
}

/**
 * Bytes a read already holds for one or more of its blocks, exactly the part of its range
 * they cover: read from a tier's file (neither the whole block nor kept in memory: memory
 * keeps what the backend filled, the page cache what the disk serves), or fetched on their
 * own (ClientFirst).
 */
class HeldBytes {
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * The client's own bytes of a run being filled, fetched on their own beside the run's fill
 * (CLIENT_FIRST_AFTER). Resolves to undefined when that fetch fails or is not made (the
 * run came from a tier): the read then waits for the run's blocks instead.
 */
class ClientFirst {
  readonly bytes: Promise<Uint8Array | undefined>;
  private settle!: (bytes: Uint8Array | undefined) => void;

  constructor(
    readonly range: ByteRange,
    /** The blocks of the read it stands for. */
    readonly first: number,
    readonly last: number,
  ) {
    this.bytes = new Promise((resolve) => (this.settle = resolve));
  }

  start(body: Promise<Chunks>, counted: (bytes: number) => void): void {
    collect(body, this.range.end - this.range.start + 1, counted).then(this.settle, () => this.settle(undefined));
  }

  skip(): void {
    this.settle(undefined);
  }
}

/** A body's bytes, which must be exactly `length` long. */
async function collect(body: Promise<Chunks>, length: number, counted: (bytes: number) => void): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let at = 0;
  for await (const chunk of await body) {
    if (at + chunk.byteLength > length) throw new Error("a client-first fetch sent more than its range");
    out.set(chunk, at);
    at += chunk.byteLength;
    counted(chunk.byteLength);
  }
  if (at !== length) throw new Error("a client-first fetch sent less than its range");
  return out;
}

/** A run to fill: its blocks, how to reserve room for them, and what to fetch. */
interface Fetching {
  run: RunFill;
  reserve: () => void;
  object: ObjectVersion;
  range: ByteRange;
  fetchRange: FetchRange;
  clientFirst?: ClientFirst;
}

export class BlockCache {
  readonly store: LruStore<Extent>;
  private readonly inFlight = new Map<string, BlockFill>();
  /** Each cached block's extent, by block key. */
  private readonly extents = new Map<string, Extent>();
  /** The tiers that can read part of a block at once (disk). */
  /** Blocks per backend request of a fill (at most maxRunBytes). */
  private readonly runBlocks: number;
  private readonly fileTiers: readonly CacheTier[];

  constructor(
    /** Bytes the memory cache may hold. */
    limit: number,
    readonly blockSize: number,
    private readonly stats: CacheStats,
    /** Lower tiers (disk, Redis), consulted before the backend and written back after it. */
    private readonly tiers: readonly CacheTier[] = [],
    /** Bounds the bytes of backend fills in flight; unbounded when absent. */
    private readonly budget?: ByteBudget,
    maxRunBytes = MAX_RUN_BYTES,
  ) {
    this.fileTiers = tiers.filter((t) => t.blockSlice);
    this.runBlocks = Math.max(1, Math.floor(maxRunBytes / blockSize));
    this.store = new LruStore<Extent>(limit, (_, extent) => {
      for (let i = extent.first; i < extent.end; i++) {
        const key = blockKey(extent.object, i);
        if (this.extents.get(key) === extent) this.extents.delete(key);
      }
    });
  }

  blockLength(o: ObjectVersion, index: number): number {
    return Math.min(this.blockSize, o.size - index * this.blockSize);
  }

  lastBlock(o: ObjectVersion): number {
    return Math.max(0, Math.ceil(o.size / this.blockSize) - 1);
  }

  /**
   * The range when every block it touches is in memory (the hit path: no promise; no copy
   * within one extent). A range over several extents that it mostly covers is answered by
   * merging them into one, so the copy it costs is made once: the next read across them is a
   * slice (MERGE_COVER).
   */
  readCached(o: ObjectVersion, range: ByteRange): RangeBody | undefined {
    const first = Math.floor(range.start / this.blockSize);
    const last = Math.floor(range.end / this.blockSize);
    let extent = this.extents.get(blockKey(o, first));
    if (!extent) return undefined;
    this.store.get(blockKey(o, extent.first));
    if (last >= extent.end) {
      const chain = [extent];
      for (let at = extent; last >= at.end; chain.push(at)) {
        const next = this.extents.get(blockKey(o, at.end));
        if (!next) return undefined;
        this.store.get(blockKey(o, next.first));
        at = next;
      }
      const merged = this.merge(o, chain, range.end - range.start + 1);
      if (!merged) return new Blob(chain.map((e) => e.slice(range)));
      extent = merged;
    }
    return extent.slice(range);
  }

  /** Adjacent extents joined into one that replaces them in the store; undefined when it would be too large to keep, or the read needs too little of it. */
  private merge(o: ObjectVersion, chain: Extent[], needed: number): Extent | undefined {
    const bytes = chain.reduce((n, e) => n + e.byteLength, 0);
    if (bytes > this.store.limit / 4 || needed < MERGE_COVER * bytes) return undefined;
    const merged = new Extent(o, chain[0]!.first, chain.at(-1)!.end, chain[0]!.start, bytes, new Blob(chain.flatMap((e) => e.parts)));
    this.keep(merged);
    return merged;
  }

  /**
   * Store an extent and index its blocks, displacing every extent it overlaps first. This
   * keeps the index's invariants: no block belongs to two extents, and each indexed extent
   * is stored under its first block's key; so the extents found walking a range abut, and
   * joining them yields exactly the range's bytes. (A re-discovery, or a whole-object GET,
   * delivers blocks that may be cached already.)
   */
  private keep(extent: Extent, reserved = 0): void {
    const o = extent.object;
    for (let i = extent.first; i < extent.end; i++) {
      const old = this.extents.get(blockKey(o, i));
      if (old) this.store.delete(blockKey(o, old.first));
    }
    const key = blockKey(o, extent.first);
    this.store.set(key, extent, reserved);
    if (this.store.has(key)) for (let i = extent.first; i < extent.end; i++) this.extents.set(blockKey(o, i), extent);
  }

  /** Read a range, from memory where possible, as soon as its bytes are in. */
  async read(o: ObjectVersion, range: ByteRange, fetchRange: FetchRange): Promise<BlockRead> {
    const first = Math.floor(range.start / this.blockSize);
    const last = Math.floor(range.end / this.blockSize);
    // Per block: its extent when cached, the part of it a file tier read, else its fill (in flight, or started here for each missing run).
    const parts: Array<Extent | HeldBytes | BlockFill> = [];
    const clientFirst: ClientFirst[] = [];
    let cachedBlocks = 0;
    let joinedBlocks = 0;
    const fromTiers = { blocks: 0 };
    let runStart = -1;
    for (let i = first; i <= last + 1; i++) {
      const key = i <= last ? blockKey(o, i) : "";
      const cached = i <= last ? this.extents.get(key) : undefined;
      const pending = i <= last && !cached ? this.inFlight.get(key) : undefined;
      const file = i <= last && !cached && !pending ? this.sliceFromFiles(o, i, range) : undefined;
      const missing = i <= last && !cached && !pending && !file;
      if (runStart !== -1 && (!missing || i - runStart === this.runBlocks)) {
        parts.push(...this.fill(o, runStart, i - 1, fetchRange, fromTiers, this.clientFirst(runStart, i - 1, range, first, clientFirst)));
        runStart = -1;
      }
      if (missing && runStart === -1) runStart = i;
      if (cached ?? file) {
        parts.push((cached ?? file)!);
        cachedBlocks++;
      } else if (pending) {
        parts.push(pending);
        joinedBlocks++;
        this.stats.coalescedWaits++;
      }
    }
    // Blocks whose bytes came on their own need not wait for their run.
    await Promise.all(
      clientFirst.map(async (c) => {
        const bytes = await c.bytes;
        if (bytes) parts.fill(new HeldBytes(bytes), c.first - first, c.last - first + 1);
      }),
    );
    // Of the last block only the bytes up to the range's end are needed; of the others, all.
    await Promise.all(parts.map((p, n) => (p instanceof BlockFill ? p.reach(first + n === last ? range.end - last * this.blockSize + 1 : p.length) : undefined)));
    cachedBlocks += fromTiers.blocks;
    const read = { cachedBlocks, joinedBlocks, fetchedBlocks: parts.length - cachedBlocks - joinedBlocks };
    // A read that needs most of the fills it waited for is answered from the extents they
    // become (joined once, and reused by the next read), not from a copy of its own that the
    // next read would have to make again; so it also waits for the few bytes it does not need.
    const runs = [...new Set(parts.flatMap((p) => (p instanceof BlockFill ? [p.run] : [])))];
    const runBytes = runs.reduce((n, r) => n + r.expected, 0);
    if (runs.length > 0 && (runs.every((r) => r.allArrived) || range.end - range.start + 1 >= MOSTLY * runBytes)) {
      await Promise.all(runs.map((r) => r.settled));
      const body = this.readCached(o, range);
      if (body) return { body, ...read };
    }
    return { body: this.assemble(parts, range, first), ...read };
  }

  /** A ClientFirst for the part of `range` in blocks `runFirst` to `runLast` when it starts far enough into them, noted in `started`. */
  private clientFirst(runFirst: number, runLast: number, range: ByteRange, readFirst: number, started: ClientFirst[]): ClientFirst | undefined {
    const runStart = runFirst * this.blockSize;
    const part = { start: Math.max(range.start, runStart), end: Math.min(range.end, (runLast + 1) * this.blockSize - 1) };
    if (part.start - runStart < CLIENT_FIRST_AFTER * this.blockSize || part.end - part.start + 1 > CLIENT_FIRST_MAX * this.blockSize) return undefined;
    const firstBlock = Math.floor(part.start / this.blockSize);
    const c = new ClientFirst(part, Math.max(readFirst, firstBlock), runLast);
    started.push(c);
    return c;
  }

  /** The part of block `index` that `range` needs, from the first tier of files that holds the block. */
  private sliceFromFiles(o: ObjectVersion, index: number, range: ByteRange): HeldBytes | undefined {
    if (this.fileTiers.length === 0) return undefined;
    const start = index * this.blockSize;
    const length = this.blockLength(o, index);
    const from = Math.max(range.start, start) - start;
    const to = Math.min(range.end + 1, start + length) - start;
    for (const tier of this.fileTiers) {
      const bytes = tier.blockSlice!(blockKey(o, index), length, from, to);
      if (bytes) {
        this.stats.bytesFromTiers += bytes.byteLength;
        return new HeldBytes(bytes);
      }
    }
    return undefined;
  }

  /**
   * Wait for room in the fill budget for `bytes` about to arrive from the backend outside a
   * fill (a discovery's widened read, which adopt then holds until its run settles). Returns
   * the release: for adopt, or for the caller when nothing is adopted; calling it twice is harmless.
   */
  async admit(bytes: number): Promise<() => void> {
    if (!this.budget) return () => {};
    const taken = await this.budget.acquire(bytes);
    let held = true;
    return () => {
      if (held) this.budget!.release(taken);
      held = false;
    };
  }

  /**
   * Register blocks whose bytes are already on their way (the body of a response that
   * discovered the object), so concurrent readers wait for them instead of fetching.
   */
  adopt(o: ObjectVersion, first: number, last: number, body: Chunks, release: () => void = () => {}): void {
    const { run, reserve } = this.track(o, first, last);
    reserve();
    void run.settled.then(release);
    this.pump(run, body)
      .then(() => this.writeBack(o, first, run))
      .catch(() => {});
  }

  /** Fill a run of missing blocks; `fromTiers` counts those the lower tiers supplied. `first`: the client's own bytes, fetched too when the run goes to the backend. */
  private fill(o: ObjectVersion, first: number, last: number, fetchRange: FetchRange, fromTiers: { blocks: number }, clientFirst?: ClientFirst): BlockFill[] {
    const range = { start: first * this.blockSize, end: Math.min((last + 1) * this.blockSize, o.size) - 1 };
    const { run, reserve } = this.track(o, first, last);
    const fetching = { run, reserve, object: o, range, fetchRange, clientFirst };
    const filling = this.tiers.length === 0 ? this.fetch(fetching) : this.fromTiersOrFetch(fetching, first, last, fromTiers);
    filling.catch((err) => run.fail(err));
    return run.blocks;
  }

  private async fetch({ run, reserve, object: o, range, fetchRange, clientFirst }: Fetching): Promise<void> {
    if (clientFirst) this.startClientFirst(o, clientFirst, fetchRange);
    const taken = await this.budget?.acquire(range.end - range.start + 1);
    reserve();
    try {
      await this.pump(run, await fetchRange(o, range));
    } finally {
      if (taken !== undefined) this.budget!.release(taken);
    }
    this.writeBack(o, range.start / this.blockSize, run);
  }

  /** The client's own bytes beside its run, when the fill budget has room now (they are not worth a wait: the run brings them too). */
  private startClientFirst(o: ObjectVersion, c: ClientFirst, fetchRange: FetchRange): void {
    const length = c.range.end - c.range.start + 1;
    const taken = this.budget ? this.budget.tryAcquire(length) : 0;
    if (taken === undefined) {
      c.skip();
      return;
    }
    c.start(fetchRange(o, c.range), (n) => (this.stats.bytesFromUpstream += n));
    c.bytes.finally(() => this.budget?.release(taken));
  }

  /** Hand a run fetched from the backend to the lower tiers, which store it in the background. */
  private writeBack(o: ObjectVersion, first: number, run: RunFill): void {
    if (this.tiers.length === 0) return;
    run.blocks.forEach((block, n) => {
      const bytes = block.joined();
      for (const tier of this.tiers) tier.putBlock(blockKey(o, first + n), bytes);
    });
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
  private async fromTiersOrFetch(fetching: Fetching, first: number, last: number, fromTiers: { blocks: number }): Promise<void> {
    const { run, object: o, range } = fetching;
    const found = await Promise.all(Array.from({ length: last - first + 1 }, (_, n) => blockFromTiers(this.tiers, blockKey(o, first + n), this.blockLength(o, first + n))));
    if (!found.every((b) => b !== undefined)) return this.fetch(fetching);
    fetching.clientFirst?.skip();
    this.stats.bytesFromTiers += range.end - range.start + 1;
    fromTiers.blocks += found.length;
    for (const block of found as Uint8Array[]) run.push(block);
    run.finish();
  }

  /**
   * A run's blocks, registered as in flight; stored as one extent once all of it arrived.
   * `reserve` sets room aside in the store for its bytes, once they are on their way: a fill
   * still queued for the fill budget reserves nothing, so a burst of cold reads waiting their
   * turn does not evict the blocks other readers are hitting.
   */
  private track(o: ObjectVersion, first: number, last: number): { run: RunFill; reserve: () => void } {
    const keys = Array.from({ length: last - first + 1 }, (_, n) => blockKey(o, first + n));
    const lengths = keys.map((_, n) => this.blockLength(o, first + n));
    const total = lengths.reduce((a, b) => a + b, 0);
    let reserved = 0;
    const run = new RunFill(lengths, {
      complete: (pieces) => {
        this.keep(new Extent(o, first, last + 1, first * this.blockSize, total, pieces), reserved);
        forget();
      },
      failed: () => {
        this.store.release(reserved);
        forget();
      },
    });
    // Only the run that registered a block unregisters it: a later run may have taken it over.
    const forget = () => {
      for (const [n, key] of keys.entries()) if (this.inFlight.get(key) === run.blocks[n]) this.inFlight.delete(key);
    };
    for (const [n, key] of keys.entries()) this.inFlight.set(key, run.blocks[n]!);
    const reserve = () => {
      if (reserved === 0 && this.store.reserve(total)) reserved = total;
    };
    return { run, reserve };
  }

  /**
   * The range from its blocks' sources: a slice of one extent as is, else the pieces joined
   * once (a fill still in flight gives views of the chunks that arrived).
   */
  private assemble(parts: Array<Extent | HeldBytes | BlockFill>, range: ByteRange, first: number): RangeBody {
    const pieces: Array<Blob | Uint8Array> = [];
    for (let n = 0; n < parts.length; n++) {
      const part = parts[n]!;
      if (part instanceof Extent) {
        // Only the blocks it stands for here: the read's own fills may have evicted it while its
        // parts were collected, and then its later blocks come from those fills instead.
        let m = n;
        while (parts[m + 1] === part) m++;
        pieces.push(part.slice({ start: Math.max(range.start, (first + n) * this.blockSize), end: Math.min(range.end, (first + m + 1) * this.blockSize - 1) }));
        n = m;
      } else if (part instanceof HeldBytes) {
        pieces.push(part.bytes);
        while (parts[n + 1] === part) n++;
      } else {
        const blockStart = (first + n) * this.blockSize;
        pieces.push(...part.slice(Math.max(range.start, blockStart) - blockStart, Math.min(range.end + 1, blockStart + this.blockSize) - blockStart));
      }
    }
    return pieces.length === 1 ? pieces[0]! : new Blob(pieces);
  }
}

/** A range body's bytes (a copy only when it is a Blob). */
export async function bytesOf(body: RangeBody): Promise<Uint8Array> {
  return body instanceof Blob ? body.bytes() : body;
}
