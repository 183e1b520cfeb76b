/**
 * Parse an incoming HTTP request into the S3 operation it names: bucket, key, query and
 * the operation kind. Pure: takes the URL and headers, does no I/O. Everything after this
 * point (auth, cache, forwarding) works from the parsed operation, never from the raw URL.
 */
import { parseCopySource, type CopySource } from "./copy-source.ts";
import { S3Error } from "./errors.ts";
import { checkBucketName, checkObjectKey } from "./names.ts";
import { parseRange, type ParsedRange } from "./range.ts";
import { decodeComponent, type QueryParam } from "./uri.ts";

export type OperationKind =
  | "ListBuckets"
  | "ListObjects"
  | "ListObjectsV2"
  | "HeadBucket"
  | "CreateBucket"
  | "DeleteBucket"
  | "DeleteObjects"
  | "BucketSubresource"
  | "GetObject"
  | "HeadObject"
  | "PutObject"
  | "CopyObject"
  | "DeleteObject"
  | "CreateMultipartUpload"
  | "UploadPart"
  | "UploadPartCopy"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "ListParts"
  | "ObjectSubresource"
  | "Unknown";

export interface S3Operation {
  kind: OperationKind;
  method: string;
  /** Undefined for service-level requests (ListBuckets). */
  bucket?: string;
  /** Decoded object key; undefined for bucket-level requests. */
  key?: string;
  /** Decoded query parameters in received order. */
  query: QueryParam[];
  headers: Headers;
  style: "path" | "virtual";
  /** `x-amz-copy-source`, parsed and checked; forwarded re-encoded from this, never as received. */
  copySource?: CopySource;
  /** A GetObject's Range header, parsed once for the cache's decisions; forwarded as received. */
  range?: ParsedRange;
}

export interface ParseOptions {
  /** Host suffixes that mean virtual-hosted-style (`bucket.<domain>`). */
  domains: readonly string[];
}

/** Subresources that make a request something other than a plain object/bucket read or write. */
const OBJECT_SUBRESOURCES = new Set(["acl", "tagging", "legal-hold", "retention", "torrent", "restore", "select", "attributes"]);

/** The methods S3 answers (OPTIONS is CORS preflight); anything else is 405 here. */
const METHODS = new Set(["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]);

export function parseOperation(method: string, url: URL, headers: Headers, opts: ParseOptions): S3Operation {
  if (!METHODS.has(method)) throw new S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.", { Method: method });
  // Bun joins repeated headers with ", ": two Content-Length headers arrive as "5, 5".
  const length = headers.get("content-length");
  if (length !== null && !/^\d+$/.test(length)) throw new S3Error("InvalidArgument", "Content-Length must be one decimal number.", { ArgumentName: "Content-Length" });
  const query = parseQuery(url.search);
  const host = (headers.get("host") ?? url.host).toLowerCase();
  const rawPath = url.pathname;
  const path = decodeComponent(rawPath, false);
  if (path === undefined) throw new S3Error("InvalidURI", "Couldn't parse the specified URI.");

  let bucket: string | undefined;
  let key: string | undefined;
  let style: S3Operation["style"] = "path";
  const vhostBucket = virtualHostBucket(host, opts.domains);
  if (vhostBucket !== undefined) {
    style = "virtual";
    bucket = vhostBucket;
    key = path.length > 1 ? path.slice(1) : undefined;
  } else {
    const rest = path.slice(1);
    const slash = rest.indexOf("/");
    // `//bucket/key` names no bucket: refused, rather than parsed as the service (ListBuckets)
    // while its path still reaches an object.
    if (slash === 0) throw new S3Error("InvalidURI", "Couldn't parse the specified URI.");
    bucket = slash === -1 ? rest : rest.slice(0, slash);
    key = slash === -1 || slash === rest.length - 1 ? undefined : rest.slice(slash + 1);
    if (bucket === "") bucket = undefined;
  }
  if (bucket !== undefined) checkBucketName(bucket);
  if (key !== undefined) checkObjectKey(key);
  const source = headers.get("x-amz-copy-source");
  const copySource = source === null ? undefined : parseCopySource(source);
  const kind = classify(method, bucket, key, query, headers);
  const range = kind === "GetObject" ? parseRange(headers.get("range")) : undefined;
  return { kind, method, bucket, key, query, headers, style, copySource, range };
}

/** Decoded query parameters; `+` means space as in form encoding, like S3 reads it. */
export function parseQuery(search: string): QueryParam[] {
  if (search.length <= 1) return [];
  const out: QueryParam[] = [];
  for (const part of search.slice(1).split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decodeComponent(eq === -1 ? part : part.slice(0, eq), true);
    const value = eq === -1 ? "" : decodeComponent(part.slice(eq + 1), true);
    if (name === undefined || value === undefined) throw new S3Error("InvalidURI", "Couldn't parse the specified URI.");
    // CR, LF or NUL in a parameter can only be header injection (response-* overrides) or garbage.
    if (/[\r\n\0]/.test(name + value)) throw new S3Error("InvalidArgument", "Query parameters must not contain control characters.");
    out.push([name, value]);
  }
  return out;
}

export function queryValue(op: Pick<S3Operation, "query">, name: string): string | undefined {
  for (const [k, v] of op.query) if (k === name) return v;
  return undefined;
}

export function hasQuery(op: Pick<S3Operation, "query">, name: string): boolean {
  return op.query.some(([k]) => k === name);
}

function virtualHostBucket(host: string, domains: readonly string[]): string | undefined {
  if (domains.length === 0) return undefined;
  const hostname = host.replace(/:\d+$/, "");
  for (const domain of domains) {
    if (hostname.endsWith("." + domain)) return hostname.slice(0, -(domain.length + 1));
  }
  return undefined;
}

function classify(method: string, bucket: string | undefined, key: string | undefined, query: QueryParam[], headers: Headers): OperationKind {
  const has = (name: string) => query.some(([k]) => k === name);
  if (bucket === undefined) return method === "GET" ? "ListBuckets" : "Unknown";
  if (key === undefined) {
    switch (method) {
      case "GET":
        if (query.some(([k, v]) => k === "list-type" && v === "2")) return "ListObjectsV2";
        return query.every(([k]) => LIST_PARAMS.has(k)) ? "ListObjects" : "BucketSubresource";
      case "HEAD":
        return "HeadBucket";
      case "PUT":
        return query.length === 0 ? "CreateBucket" : "BucketSubresource";
      case "DELETE":
        return query.length === 0 ? "DeleteBucket" : "BucketSubresource";
      case "POST":
        return has("delete") ? "DeleteObjects" : "BucketSubresource";
      default:
        return "Unknown";
    }
  }
  if (query.some(([k]) => OBJECT_SUBRESOURCES.has(k))) return "ObjectSubresource";
  switch (method) {
    case "GET":
      return has("uploadId") ? "ListParts" : "GetObject";
    case "HEAD":
      return "HeadObject";
    case "PUT":
      if (has("partNumber") && has("uploadId")) return headers.has("x-amz-copy-source") ? "UploadPartCopy" : "UploadPart";
      return headers.has("x-amz-copy-source") ? "CopyObject" : "PutObject";
    case "DELETE":
      return has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
    case "POST":
      if (has("uploads")) return "CreateMultipartUpload";
      if (has("uploadId")) return "CompleteMultipartUpload";
      return "ObjectSubresource";
    default:
      return "Unknown";
  }
}

/**
 * Query parameters that authenticate a presigned URL, SigV4 and the legacy SigV2 form
 * (botocore's generate_presigned_url and s3cmd presign with SigV2 by default). They ride along on any operation.
 */
export const PRESIGN_PARAMS: ReadonlySet<string> = new Set([
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
  "X-Amz-Content-Sha256",
  "AWSAccessKeyId",
  "Signature",
  "Expires",
  "x-amz-security-token",
]);

/** Parameters of a plain ListObjects (V1) request; anything else on a bucket GET is a subresource. */
const LIST_PARAMS = new Set(["prefix", "delimiter", "marker", "max-keys", "encoding-type", "fetch-owner", "start-after", "continuation-token", "x-id", "list-type", "expected-bucket-owner", "optional-object-attributes", ...PRESIGN_PARAMS]);
