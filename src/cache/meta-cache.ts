/**
 * Object metadata (what a HEAD answers) per (bucket, key, versionId), trusted for the meta
 * TTL; 404s remembered for the negative TTL. Entries are bounded in number, oldest dropped
 * first. Writes through the proxy invalidate single keys, or a whole bucket at once (a
 * generation counter, for DeleteObjects, whose keys are in the request body). Pure: the clock
 * is injected.
 */
import { metaKey } from "./keys.ts";

/** What the cache knows about one object version, enough to answer HEAD and ranged GETs. */
export interface ObjectMeta {
  size: number;
  /** Quoted, exactly as the backend sent it. */
  etag: string;
  lastModified?: string;
  /** The object's response headers as S3 sends them on every GET/HEAD of it (no per-response ones). */
  headers: ReadonlyArray<readonly [string, string]>;
  /** False when the backend said `Cache-Control: no-store` or `private`: metadata only, no bytes kept. */
  cacheable: boolean;
}

/** A backend answer kept as data, to be replayed as the backend sent it (a remembered 404, say). */
export interface RecordedAnswer {
  status: number;
  headers: ReadonlyArray<readonly [string, string]>;
  /** The backend's error body; empty when learned from a HEAD. */
  body: Uint8Array;
}

type Entry = { kind: "found"; meta: ObjectMeta } | { kind: "missing"; notFound: RecordedAnswer };

interface Stored {
  entry: Entry;
  expires: number;
  generation: number;
}

export type MetaLookup = Entry | undefined;

export interface MetaCacheOptions {
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  now?: () => number;
}

export class MetaCache {
  private readonly entries = new Map<string, Stored>();
  private readonly generations = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: MetaCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.opts.ttlMs > 0;
  }

  get(bucket: string, key: string, versionId?: string): MetaLookup {
    const stored = this.current(bucket, key, versionId);
    return stored && stored.expires > this.now() ? stored.entry : undefined;
  }

  /**
   * Metadata past its TTL but never invalidated: what `--serve-stale-on-error` answers with
   * while the backend cannot be reached. Expired entries stay until pushed out by newer ones.
   */
  getStale(bucket: string, key: string, versionId?: string): ObjectMeta | undefined {
    const stored = this.current(bucket, key, versionId);
    return stored?.entry.kind === "found" ? stored.entry.meta : undefined;
  }

  private current(bucket: string, key: string, versionId?: string): Stored | undefined {
    const id = metaKey(bucket, key, versionId);
    const stored = this.entries.get(id);
    if (stored && stored.generation !== (this.generations.get(bucket) ?? 0)) {
      this.entries.delete(id);
      return undefined;
    }
    return stored;
  }

  setFound(bucket: string, key: string, versionId: string | undefined, meta: ObjectMeta): void {
    if (this.opts.ttlMs > 0) this.store(bucket, metaKey(bucket, key, versionId), { kind: "found", meta }, this.opts.ttlMs);
  }

  setMissing(bucket: string, key: string, versionId: string | undefined, notFound: RecordedAnswer): void {
    if (this.opts.negativeTtlMs > 0) this.store(bucket, metaKey(bucket, key, versionId), { kind: "missing", notFound }, this.opts.negativeTtlMs);
  }

  /** Forget one key (every version id we know of it is keyed separately; the current one is ""). */
  invalidate(bucket: string, key: string, versionId?: string): void {
    this.entries.delete(metaKey(bucket, key, versionId));
    if (versionId !== undefined) this.entries.delete(metaKey(bucket, key));
  }

  /** Forget every key of a bucket, in O(1). */
  invalidateBucket(bucket: string): void {
    this.generations.set(bucket, (this.generations.get(bucket) ?? 0) + 1);
  }

  private store(bucket: string, id: string, entry: Entry, ttlMs: number): void {
    this.entries.delete(id);
    if (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, { entry, expires: this.now() + ttlMs, generation: this.generations.get(bucket) ?? 0 });
  }
}
