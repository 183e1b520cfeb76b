/**
 * The one codec for cache keys: an object's metadata id and its blocks' keys, used in memory
 * and (hashed, see tier.ts) by the lower tiers. Unambiguous whatever a key or version id
 * contains: bucket names never hold NUL (S3's naming rules), an ETag is a header value (no
 * NUL either), the version id is length-prefixed and the object key comes last; so two
 * different names can never share a key, and a block can never be served for another
 * object's. Pure.
 */

/** Which object (and version, when the client named one) a key is about. */
export interface ObjectName {
  bucket: string;
  key: string;
  versionId?: string;
}

/** The object version a block belongs to: its bytes are pinned to this ETag and size. */
export interface ObjectVersion extends ObjectName {
  etag: string;
  size: number;
}

const SEP = "\u0000";

export function metaKey(bucket: string, key: string, versionId?: string): string {
  const v = versionId ?? "";
  return `${bucket}${SEP}${v.length}${SEP}${v}${key}`;
}

/** The name a metadata id was made from; undefined for a string that is no metadata id. */
export function parseMetaKey(id: string): ObjectName | undefined {
  const afterBucket = id.indexOf(SEP);
  const afterLength = afterBucket === -1 ? -1 : id.indexOf(SEP, afterBucket + 1);
  if (afterLength === -1) return undefined;
  const length = Number(id.slice(afterBucket + 1, afterLength));
  if (!Number.isSafeInteger(length) || length < 0 || afterLength + 1 + length > id.length) return undefined;
  const versionId = id.slice(afterLength + 1, afterLength + 1 + length);
  return { bucket: id.slice(0, afterBucket), key: id.slice(afterLength + 1 + length), ...(length > 0 ? { versionId } : {}) };
}

/** What follows the index in each block key of a version, built once per version object (they are never mutated). */
const blockSuffixes = new WeakMap<ObjectVersion, string>();

/** Block `index` of one object version. */
export function blockKey(o: ObjectVersion, index: number): string {
  let suffix = blockSuffixes.get(o);
  if (suffix === undefined) blockSuffixes.set(o, (suffix = `${SEP}${o.etag}${SEP}${metaKey(o.bucket, o.key, o.versionId)}`));
  return index + suffix;
}
