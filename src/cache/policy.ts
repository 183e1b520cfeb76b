/**
 * Which GET/HEAD requests the cache may answer. Pure. A request is cached only when its
 * answer is the same for every client allowed to read the object: anything that changes the
 * bytes or headers per request (part numbers, response-header overrides, SSE-C keys,
 * requester-pays, several ranges, checksum mode on a whole object) goes straight to the backend.
 */
import { PRESIGN_PARAMS, type S3Operation } from "../s3/operation.ts";

export type CachePolicy = "cache" | "bypass" | "refresh";

/**
 * Query parameters that leave the answer the same for everyone: versionId (part of the cache
 * key), the SDKs' x-id, a presigned URL's own signature parameters, and checksum mode as a
 * presigned URL carries it (judged below, like the header).
 */
const NEUTRAL_PARAMS = new Set(["versionId", "x-id", "x-amz-checksum-mode", ...PRESIGN_PARAMS]);

const PER_REQUEST_HEADERS = ["x-amz-server-side-encryption-customer-algorithm", "x-amz-server-side-encryption-customer-key", "x-amz-request-payer", "x-amz-expected-bucket-owner"];

export function cachePolicy(op: S3Operation): CachePolicy {
  if (op.kind !== "GetObject" && op.kind !== "HeadObject") return "bypass";
  if (op.bucket === undefined || op.key === undefined) return "bypass";
  if (!op.query.every(([k]) => NEUTRAL_PARAMS.has(k))) return "bypass";
  if (PER_REQUEST_HEADERS.some((h) => op.headers.has(h))) return "bypass";
  const range = op.range;
  if (range === "multi") return "bypass";
  // Current AWS SDKs send checksum mode on every GetObject. S3 returns object checksums only
  // for whole-object answers (and HEAD), which the cache does not keep; a range has none.
  const checksumMode = op.headers.has("x-amz-checksum-mode") || op.query.some(([k]) => k === "x-amz-checksum-mode");
  if (checksumMode && (range === undefined || range === "ignored")) return "bypass";
  const cc = (op.headers.get("cache-control") ?? "").toLowerCase();
  if (/\bno-(cache|store)\b/.test(cc) || (op.headers.get("pragma") ?? "").toLowerCase() === "no-cache") return "refresh";
  return "cache";
}

/** Whether a backend answer may be kept (`Cache-Control: no-store` or `private` say no). */
export function backendAllowsCaching(headers: Headers): boolean {
  const cc = (headers.get("cache-control") ?? "").toLowerCase();
  return !/\b(no-store|private)\b/.test(cc);
}
