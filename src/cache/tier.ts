/**
 * A cache tier below memory (local disk, a shared Redis): the contract every lower tier
 * implements. Lookups go memory → tiers in order → upstream; fills are written back to the
 * tiers without delaying the client. A tier that fails answers "not found" (and logs/counts
 * the failure itself); it never turns into an error for the client.
 */
import { createHash } from "node:crypto";
import type { ObjectMeta } from "./meta-cache.ts";

/** Metadata as a tier stores it: with the time it was learned, so the meta TTL still applies. */
export interface StoredMeta {
  meta: ObjectMeta;
  /** Epoch milliseconds when the backend last confirmed this metadata. */
  learnedAt: number;
}

export interface CacheTier {
  readonly name: string;
  /** A block's bytes, verified to be exactly `length` bytes, or undefined. */
  getBlock(key: string, length: number): Promise<Uint8Array | undefined>;
  /** Store a block; fire and forget. */
  putBlock(key: string, bytes: Uint8Array): void;
  /** Tiers of files: bytes `from` to `to` (exclusive) of a block of `length` bytes, read at once, or undefined. */
  blockSlice?(key: string, length: number, from: number, to: number): Uint8Array | undefined;
  getMeta(id: string): Promise<StoredMeta | undefined>;
  putMeta(id: string, stored: StoredMeta): void;
  /**
   * Forget metadata here and, for a shared tier, in every other proxy that uses it. Resolves
   * once that is done and told (or failed, and counted); never rejects.
   */
  deleteMeta(id: string): Promise<void>;
  /** Shared tiers: tell every other proxy that a bucket's metadata is stale (DeleteObjects names its keys only in the body). Resolves once told. */
  invalidateBucket?(bucket: string): Promise<void>;
  /** Shared tiers: `listener` hears what other proxies invalidated, to drop it from memory. */
  onInvalidate?(listener: (change: Invalidation) => void): void;
  readonly counters: TierCounters;
  /** Resolves when the writes handed over so far have landed (or failed). */
  flush(): Promise<void>;
  /** Finish pending writes and release what the tier holds (locks, connections). */
  close(): Promise<void>;
}

/** What a write through another proxy made stale: one object's metadata, or a whole bucket's. */
export type Invalidation = { id: string } | { bucket: string };

/** What a tier counts, read by metrics and tests. */
export class TierCounters {
  hits = 0;
  misses = 0;
  writes = 0;
  /** Calls that failed (I/O error, timeout, connection down) and were answered as a miss. */
  failures = 0;
  /** Entries found damaged (bad checksum, length or key) and dropped. */
  corrupt = 0;
  evictions = 0;
  /** Shared tiers: invalidations heard from other proxies. */
  heard = 0;
}

/** The logger calls tiers use. */
export interface TierLog {
  warn(message: string): void;
  info(message: string): void;
}

/**
 * Failure reporting that does not flood the log: one warning when a tier starts failing,
 * one line when it works again; every failure is still counted.
 */
export class TierHealth {
  private failing = false;

  constructor(
    private readonly name: string,
    private readonly log: TierLog,
    private readonly counters: TierCounters,
    private readonly consequence = "its lookups are misses until it recovers",
  ) {}

  failed(err: unknown): void {
    this.counters.failures++;
    if (this.failing) return;
    this.failing = true;
    this.log.warn(`cache tier ${this.name} is failing (${err instanceof Error ? err.message : String(err)}): ${this.consequence}`);
  }

  ok(): void {
    if (!this.failing) return;
    this.failing = false;
    this.log.info(`cache tier ${this.name} recovered`);
  }
}

/**
 * A fixed-size name for a cache key within a namespace (the backend), so tiers shared or
 * kept across restarts never mix two backends' objects. SHA-256: a collision would serve
 * another block's bytes, so the hash must be collision resistant, not just fast.
 */
export function keyDigest(namespace: string, key: string): Buffer {
  return createHash("sha256").update(namespace).update("\u0000").update(key).digest();
}

/** The first tier among `tiers` that has the block, writing it back to the tiers above it. */
export async function blockFromTiers(tiers: readonly CacheTier[], key: string, length: number): Promise<Uint8Array | undefined> {
  for (let i = 0; i < tiers.length; i++) {
    const bytes = await tiers[i]!.getBlock(key, length);
    if (bytes) {
      for (let j = 0; j < i; j++) tiers[j]!.putBlock(key, bytes);
      return bytes;
    }
  }
  return undefined;
}
