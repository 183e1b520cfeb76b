/**
 * A byte-bounded LRU store: Map insertion order is the recency order, values know their
 * size in bytes. The limit is hard: bytes held plus bytes reserved for in-flight fills never
 * exceed it. Pure (no I/O); the cache's first tier.
 */

export interface Sized {
  readonly byteLength: number;
}

export class LruStore<V extends Sized = Sized> {
  private readonly entries = new Map<string, V>();
  private held = 0;
  private reserved = 0;
  evictions = 0;
  /** Bytes of every value that has left the store (evicted, replaced or deleted). */
  bytesRemoved = 0;

  /** `onRemove` hears of every value that leaves the store (evicted, replaced or deleted). */
  constructor(
    readonly limit: number,
    private readonly onRemove?: (key: string, value: V) => void,
  ) {}

  get bytesHeld(): number {
    return this.held;
  }

  get bytesReserved(): number {
    return this.reserved;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked most recently used. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Set aside room for bytes about to arrive, evicting as needed. Returns false (and
   * reserves nothing) when they could never fit, so the caller serves them uncached.
   */
  reserve(bytes: number): boolean {
    if (bytes > this.limit - this.reserved) return false;
    this.reserved += bytes;
    this.evictUntil(this.limit - this.reserved);
    return true;
  }

  release(bytes: number): void {
    this.reserved -= bytes;
  }

  /** Store a value. Pass `reservedBytes` when it fills an earlier reservation. */
  set(key: string, value: V, reservedBytes = 0): void {
    this.release(reservedBytes);
    this.delete(key);
    if (value.byteLength > this.limit - this.reserved) return;
    this.evictUntil(this.limit - this.reserved - value.byteLength);
    this.entries.set(key, value);
    this.held += value.byteLength;
  }

  delete(key: string): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    this.held -= value.byteLength;
    this.bytesRemoved += value.byteLength;
    this.onRemove?.(key, value);
  }

  private evictUntil(target: number): void {
    for (const [key, value] of this.entries) {
      if (this.held <= target) return;
      this.entries.delete(key);
      this.held -= value.byteLength;
      this.bytesRemoved += value.byteLength;
      this.evictions++;
      this.onRemove?.(key, value);
    }
  }
}

/** What the store reports about itself (metrics), whatever its values. */
export type LruUsage = Pick<LruStore, "limit" | "bytesHeld" | "bytesReserved" | "evictions" | "bytesRemoved" | "size">;
