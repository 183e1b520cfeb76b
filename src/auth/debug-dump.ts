/**
 * What a `SignatureDoesNotMatch` may print at debug level: the canonical request the proxy
 * expected, with every header and query value that is not on an allow-list replaced by
 * `<redacted>`. An allow-list, because a deny-list misses the next secret header (SSE-C
 * keys, a session token sent twice, an `Authorization` the client chose to sign).
 */
import type { QueryParam } from "../s3/uri.ts";
import { canonicalRequest, type CanonicalInput } from "./canonical.ts";

/** Headers that describe a request and never carry a credential or a key. */
const PRINTABLE_HEADERS: ReadonlySet<string> = new Set([
  "host",
  "content-type",
  "content-length",
  "content-md5",
  "content-encoding",
  "content-language",
  "content-disposition",
  "cache-control",
  "expires",
  "expect",
  "range",
  "if-match",
  "if-none-match",
  "if-modified-since",
  "if-unmodified-since",
  "date",
  "user-agent",
  "transfer-encoding",
  "x-amz-date",
  "x-amz-content-sha256",
  "x-amz-decoded-content-length",
  "x-amz-trailer",
  "x-amz-sdk-checksum-algorithm",
  "x-amz-checksum-mode",
  "x-amz-user-agent",
  "amz-sdk-invocation-id",
  "amz-sdk-request",
  "x-amz-copy-source",
  "x-amz-copy-source-range",
  "x-amz-metadata-directive",
  "x-amz-tagging-directive",
  "x-amz-storage-class",
  "x-amz-acl",
  "x-amz-request-payer",
  "x-amz-expected-bucket-owner",
  "x-amz-server-side-encryption",
  "x-amz-server-side-encryption-customer-algorithm",
  "x-amz-copy-source-server-side-encryption-customer-algorithm",
]);

/** Query parameters that name what is asked for or how it was presigned, never the secret part. */
const PRINTABLE_QUERY: ReadonlySet<string> = new Set([
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Content-Sha256",
  "list-type",
  "prefix",
  "delimiter",
  "marker",
  "max-keys",
  "encoding-type",
  "fetch-owner",
  "start-after",
  "continuation-token",
  "versionId",
  "partNumber",
  "uploadId",
  "uploads",
  "delete",
  "acl",
  "tagging",
  "x-id",
  "max-parts",
  "part-number-marker",
  "response-content-type",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-cache-control",
  "response-expires",
]);

const REDACTED = "<redacted>";
/** Only unreserved characters, so canonical encoding leaves it as is; replaced by the readable form afterwards. */
const SENTINEL = "~s3proxy-redacted~";

/** A copy of the headers with every value outside the allow-list replaced by `mark`. */
export function printableHeaders(headers: Headers, mark = REDACTED): Headers {
  const out = new Headers();
  for (const [name, value] of headers) out.set(name, PRINTABLE_HEADERS.has(name) ? value : mark);
  return out;
}

/** The query with every value outside the allow-list replaced by `mark`. */
export function printableQuery(query: readonly QueryParam[], mark = REDACTED): QueryParam[] {
  return query.map(([name, value]) => [name, PRINTABLE_QUERY.has(name) ? value : mark]);
}

export function printableCanonicalRequest(input: CanonicalInput): string {
  return canonicalRequest({ ...input, headers: printableHeaders(input.headers, SENTINEL), query: printableQuery(input.query, SENTINEL) }).replaceAll(SENTINEL, REDACTED);
}
