/**
 * A cache tier below memory (local disk, a shared Redis): the contract every lower tier
 * implements. Lookups go memory → tiers in order → upstream; fills are written back to the
 * tiers without delaying the client. A tier that fails answers "not found" (and logs/counts
 * the failure itself); it never turns into an error for the client.
 */
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
  getMeta(id: string): Promise<StoredMeta | undefined>;
  putMeta(id: string, stored: StoredMeta): void;
  deleteMeta(id: string): void;
  close(): Promise<void>;
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
