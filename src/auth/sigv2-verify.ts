/**
 * Verify an inbound AWS Signature Version 2 request, the legacy S3 scheme boto3 still uses
 * for presigned URLs by default in us-east-1: header (`Authorization: AWS key:signature`) or
 * presigned (`AWSAccessKeyId`, `Signature`, `Expires`). The signature is a base64 HMAC-SHA1
 * over S3's SigV2 string to sign:
 *   method \n Content-MD5 \n Content-Type \n (Date | Expires) \n amz-headers resource
 * Every `x-amz-*` header is part of it, so none can be added unsigned. Pure: the clock and
 * the secret are passed in.
 */
import { createHmac } from "node:crypto";
import { S3Error } from "../s3/errors.ts";
import type { QueryParam } from "../s3/uri.ts";
import { printableHeaders, printableQuery } from "./debug-dump.ts";
import { signaturesEqual } from "./signing-key.ts";
import { checkOneMechanism, MAX_SKEW_MS, parseAmzDate, toAmzDate, type InboundRequest } from "./sigv4-verify.ts";

export interface SigV2Claim {
  presigned: boolean;
  accessKeyId: string;
  /** Base64, as sent. */
  signature: string;
  /** Header auth: the request time; presigned: the expiry. Epoch milliseconds. */
  time: number;
  /** Presigned only: the `Expires` parameter as sent (it is signed as text). */
  expires?: string;
}

/** The subresources S3 and botocore put into the canonical resource (botocore's HmacV1Auth list). */
const SUBRESOURCES: ReadonlySet<string> = new Set([
  "accelerate",
  "acl",
  "cors",
  "defaultObjectAcl",
  "location",
  "logging",
  "partNumber",
  "policy",
  "requestPayment",
  "torrent",
  "versioning",
  "versionId",
  "versions",
  "website",
  "uploads",
  "uploadId",
  "response-content-type",
  "response-content-language",
  "response-expires",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "delete",
  "lifecycle",
  "tagging",
  "restore",
  "storageClass",
  "notification",
  "replication",
  "analytics",
  "metrics",
  "inventory",
  "select",
  "select-type",
  "object-lock",
]);

const HEADER = /^AWS ([^\s:]+):([A-Za-z0-9+/]+={0,2})$/;

function queryParam(query: readonly QueryParam[], name: string): string | undefined {
  for (const [k, v] of query) if (k === name) return v;
  return undefined;
}

/** The SigV2 claim a request makes, or undefined when it makes none (it may still be SigV4 or anonymous). */
export function readSigV2Claim(req: Pick<InboundRequest, "headers" | "query">): SigV2Claim | undefined {
  const authorization = req.headers.get("authorization");
  if (authorization !== null) {
    if (!authorization.startsWith("AWS ")) return undefined;
    checkOneMechanism(authorization, req.query);
    const m = HEADER.exec(authorization);
    if (!m) throw new S3Error("InvalidArgument", "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature", { ArgumentName: "Authorization" });
    return { presigned: false, accessKeyId: m[1]!, signature: m[2]!, time: requestTime(req.headers) };
  }
  const accessKeyId = queryParam(req.query, "AWSAccessKeyId");
  if (accessKeyId === undefined) return undefined;
  const signature = queryParam(req.query, "Signature");
  const expires = queryParam(req.query, "Expires");
  if (!accessKeyId || !signature || !expires || !/^\d{1,12}$/.test(expires)) {
    throw new S3Error("AccessDenied", "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters");
  }
  return { presigned: true, accessKeyId, signature, time: Number(expires) * 1000, expires };
}

/** x-amz-date (either form), else Date. */
function requestTime(headers: Headers): number {
  const text = headers.get("x-amz-date") ?? headers.get("date");
  const t = text === null ? NaN : (parseAmzDate(text)?.getTime() ?? Date.parse(text));
  if (Number.isNaN(t)) throw new S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  return t;
}

/** Header auth: within 15 minutes of now. Presigned: not past `Expires`. */
export function checkSigV2Time(claim: SigV2Claim, now: number): void {
  const serverTime = () => toAmzDate(new Date(now));
  if (claim.presigned) {
    if (now > claim.time) throw new S3Error("AccessDenied", "Request has expired", { Expires: new Date(claim.time).toUTCString(), ServerTime: serverTime() });
    return;
  }
  if (Math.abs(claim.time - now) > MAX_SKEW_MS) {
    throw new S3Error("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", {
      RequestTime: toAmzDate(new Date(claim.time)),
      ServerTime: serverTime(),
      MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    });
  }
}

export interface SigV2Input extends Omit<InboundRequest, "rawPath"> {
  /** The canonical resource's path (see sigV2ResourcePath). */
  resourcePath: string;
}

/**
 * The path part of the canonical resource: `/bucket/` plus the key as it was sent, the bucket
 * included even when it came from the host (virtual-hosted), with the slash after a bucket
 * that has no key (botocore signs `/bucket/` while sending `/bucket`).
 */
export function sigV2ResourcePath(op: { bucket?: string; key?: string; style: "path" | "virtual" }, rawPath: string): string {
  const path = op.style === "virtual" ? `/${op.bucket}${rawPath}` : rawPath;
  return op.bucket !== undefined && op.key === undefined && !path.endsWith("/") ? `${path}/` : path;
}

export function sigV2StringToSign(req: SigV2Input, claim: SigV2Claim): string {
  const presignedValue = (name: string) => (claim.presigned ? queryParam(req.query, name) : undefined);
  const header = (name: string) => (req.headers.get(name) ?? presignedValue(name) ?? "").trim();
  const date = claim.presigned ? claim.expires! : req.headers.has("x-amz-date") ? "" : header("date");
  return [req.method, header("content-md5"), header("content-type"), date, ""].join("\n") + amzHeaders(req, claim.presigned) + resource(req);
}

/** `name:value\n` for every x-amz-* header (and, presigned, every x-amz-* parameter), sorted by name. */
function amzHeaders(req: SigV2Input, presigned: boolean): string {
  const amz = new Map<string, string>();
  if (presigned) for (const [k, v] of req.query) if (k.toLowerCase().startsWith("x-amz-")) amz.set(k.toLowerCase(), v.trim());
  req.headers.forEach((value, name) => {
    if (name.startsWith("x-amz-")) amz.set(name, value.trim());
  });
  return [...amz.keys()]
    .sort()
    .map((name) => `${name}:${amz.get(name)}\n`)
    .join("");
}

/** The path as received, then the subresources in the query sorted by name, their values decoded. */
function resource(req: SigV2Input): string {
  const sub = req.query.filter(([k]) => SUBRESOURCES.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = sub.map(([k, v]) => (v === "" ? k : `${k}=${v}`)).join("&");
  return req.resourcePath + (query === "" ? "" : `?${query}`);
}

/** Check the signature in constant time; on mismatch the string to sign, its secrets redacted, goes to `debug`. */
export function verifySigV2(req: SigV2Input, claim: SigV2Claim, secret: string, debug?: (message: string) => void): void {
  const expected = createHmac("sha1", secret).update(sigV2StringToSign(req, claim), "utf8").digest("base64");
  if (!signaturesEqual(expected, claim.signature)) {
    const printable = sigV2StringToSign({ ...req, headers: printableHeaders(req.headers), query: printableQuery(req.query) }, claim);
    debug?.(`SignatureDoesNotMatch (SigV2) for ${claim.accessKeyId}; string to sign:\n${printable}`);
    throw new S3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
  }
}
