/**
 * SigV4 canonical request and string to sign, built from an inbound request exactly as it
 * was received (the server side of signing). Pure: no clock, no I/O.
 *
 * S3 rules, which differ from other AWS services: the path is decoded once and re-encoded
 * (clients disagree on which characters they leave unencoded, so canonicalising from the
 * decoded form accepts them all), never normalised, never double-encoded.
 */
import { createHash } from "node:crypto";
import { decodeComponent, encodeQueryComponent, PLAIN_PATH, type QueryParam } from "../s3/uri.ts";

export const ALGORITHM = "AWS4-HMAC-SHA256";
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export interface CanonicalInput {
  method: string;
  /** The path as received, still percent-encoded. */
  rawPath: string;
  /** Decoded query parameters in received order. */
  query: readonly QueryParam[];
  headers: Headers;
  /** Lower-case names, as listed in SignedHeaders. */
  signedHeaders: readonly string[];
  payloadHash: string;
  /** Presigned requests leave their own signature out of the canonical query. */
  presigned: boolean;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Segment by segment, so a slash the client sent encoded (`%2F`) stays encoded, as it was
 * signed, while literal slashes stay literal. A plain path (most keys) is its own canonical
 * form, and checking for one costs a fraction of splitting and re-encoding it.
 */
export function canonicalUri(rawPath: string): string {
  if (PLAIN_PATH.test(rawPath)) return rawPath;
  return rawPath
    .split("/")
    .map((segment) => encodeQueryComponent(decodeComponent(segment, false) ?? segment))
    .join("/");
}

export function canonicalQuery(query: readonly QueryParam[], presigned: boolean): string {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of query) {
    if (presigned && name === "X-Amz-Signature") continue;
    pairs.push([encodeQueryComponent(name), encodeQueryComponent(value)]);
  }
  // Byte order of the encoded forms (all ASCII here), by name then value.
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** Values trimmed with inner runs of white space folded to one space. */
export function canonicalHeaders(headers: Headers, signed: readonly string[]): string {
  return signed.map((name) => `${name}:${(headers.get(name) ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
}

export function canonicalRequest(input: CanonicalInput): string {
  return [input.method, canonicalUri(input.rawPath), canonicalQuery(input.query, input.presigned), canonicalHeaders(input.headers, input.signedHeaders), input.signedHeaders.join(";"), input.payloadHash].join("\n");
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}
