/**
 * For objects uploaded in one piece without SSE-KMS or SSE-C, S3's ETag is the MD5 of the
 * bytes: a whole-object answer can be checked against it before it is served or cached.
 * Multipart ETags (`"<md5>-<parts>"`) and encrypted objects are opaque and not checked.
 */
import { createHash } from "node:crypto";

const PLAIN_MD5 = /^"?([0-9a-f]{32})"?$/;

/** The MD5 the ETag promises, or undefined when the ETag is not a plain MD5. */
export function md5FromEtag(headers: Headers): string | undefined {
  const sse = headers.get("x-amz-server-side-encryption");
  if (sse === "aws:kms" || sse === "aws:kms:dsse" || headers.has("x-amz-server-side-encryption-customer-algorithm")) return undefined;
  return PLAIN_MD5.exec(headers.get("etag") ?? "")?.[1];
}

/** False only when the ETag is a plain MD5 and the bytes do not match it. */
export function bodyMatchesEtag(headers: Headers, body: Uint8Array): boolean {
  const expected = md5FromEtag(headers);
  return expected === undefined || createHash("md5").update(body).digest("hex") === expected;
}
