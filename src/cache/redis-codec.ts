/**
 * What the shared tier writes into Redis and reads back, the same for one node and a
 * cluster: key names, the metadata record and the invalidation message. Pure.
 *
 * Keys are `s3proxy:b:<sha256>` (a block) and `s3proxy:m:<sha256>` (metadata), the digest
 * taken over the backend and the cache key. No hash tags: nothing needs two keys in one
 * slot, so a cluster spreads one object's blocks over all its nodes.
 */
import type { Invalidation, StoredMeta } from "./tier.ts";
import { keyDigest } from "./tier.ts";

export function redisKey(namespace: string, kind: "b" | "m", key: string): string {
  return `s3proxy:${kind}:${keyDigest(namespace, key).toString("base64url")}`;
}

/** One channel per backend: fleets of different backends sharing a server do not hear each other. */
export function invalidationChannel(namespace: string): string {
  return `s3proxy:invalidate:${keyDigest(namespace, "").toString("base64url")}`;
}

/** The id is stored beside the metadata: a digest collision or a foreign value is then detected, not served. */
export function encodeMeta(id: string, stored: StoredMeta): string {
  return JSON.stringify({ id, stored });
}

/** The metadata stored for `id`, or "corrupt" for a value that is not (damaged, foreign, another id). */
export function decodeMeta(id: string, text: string): StoredMeta | "corrupt" {
  try {
    const parsed = JSON.parse(text) as { id?: unknown; stored?: StoredMeta };
    if (parsed.id === id && parsed.stored) return parsed.stored;
  } catch {}
  return "corrupt";
}

export function encodeInvalidation(origin: string, change: Invalidation): string {
  return JSON.stringify({ origin, ...change });
}

/** What another proxy invalidated; undefined for our own message (`self`) or anything unreadable. */
export function parseInvalidation(self: string, message: string): Invalidation | undefined {
  let parsed: { origin?: unknown; id?: unknown; bucket?: unknown };
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== "object" || parsed.origin === self) return undefined;
  return typeof parsed.id === "string" ? { id: parsed.id } : typeof parsed.bucket === "string" ? { bucket: parsed.bucket } : undefined;
}
