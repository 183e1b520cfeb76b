/**
 * Verify an inbound SigV4 request, header (`Authorization: AWS4-HMAC-SHA256 …`) or
 * presigned (`X-Amz-*` query parameters), the way S3 does. Pure: the clock, the secret and
 * the debug sink are passed in. Each failure is the S3 error S3 itself answers with.
 */
import { S3Error } from "../s3/errors.ts";
import type { QueryParam } from "../s3/uri.ts";
import { ALGORITHM, canonicalRequest, stringToSign, UNSIGNED_PAYLOAD, type CanonicalInput } from "./canonical.ts";
import { printableCanonicalRequest } from "./debug-dump.ts";
import { hmac, signaturesEqual } from "./signing-key.ts";

export interface InboundRequest {
  method: string;
  /** The path as received (percent-encoded). */
  rawPath: string;
  query: readonly QueryParam[];
  headers: Headers;
}

/** What a request claims about its signature, read but not yet checked. */
export interface SigV4Claim {
  presigned: boolean;
  accessKeyId: string;
  /** `YYYYMMDD` from the credential scope. */
  date: string;
  region: string;
  service: string;
  /** `date/region/service/aws4_request`. */
  scope: string;
  /** `YYYYMMDDTHHMMSSZ`: X-Amz-Date (or Date) of the request. */
  amzDate: string;
  /** amzDate in epoch milliseconds, parsed once while reading the claim. */
  time: number;
  signedHeaders: string[];
  signature: string;
  /** The payload hash the signature covers (x-amz-content-sha256 or UNSIGNED-PAYLOAD). */
  payloadHash: string;
  /** Presigned only: seconds the URL stays valid. */
  expiresSeconds?: number;
}

export const MAX_SKEW_MS = 15 * 60_000;
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

const SIGNATURE = /^[0-9a-f]{64}$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function malformedHeader(why: string): S3Error {
  return new S3Error("AuthorizationHeaderMalformed", `The authorization header is malformed; ${why}`);
}

function malformedQuery(why: string): S3Error {
  return new S3Error("AuthorizationQueryParametersError", why);
}

function unsupported(): S3Error {
  return new S3Error("InvalidRequest", `The authorization mechanism you have provided is not supported. Please use ${ALGORITHM}.`);
}

function queryParam(query: readonly QueryParam[], name: string): string | undefined {
  for (const [k, v] of query) if (k === name) return v;
  return undefined;
}

/** ISO 8601 basic form, as SigV4 writes dates. */
export function toAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

export function parseAmzDate(text: string): Date | undefined {
  const m = AMZ_DATE.exec(text);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Split `AKID/date/region/service/aws4_request`; the key id itself is everything before the scope. */
function splitCredential(credential: string, fail: (why: string) => S3Error) {
  const parts = credential.split("/");
  if (parts.length < 5 || parts[parts.length - 1] !== "aws4_request") throw fail(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  const [date, region, service] = parts.slice(-4, -1) as [string, string, string];
  const accessKeyId = parts.slice(0, -4).join("/");
  if (accessKeyId === "" || !/^\d{8}$/.test(date)) throw fail(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  return { accessKeyId, date, region, service, scope: `${date}/${region}/${service}/aws4_request` };
}

function splitSignedHeaders(text: string, fail: (why: string) => S3Error): string[] {
  const names = text.split(";");
  if (names.some((n) => n === "" || n !== n.toLowerCase())) throw fail("SignedHeaders must be lower-case names separated by ';'.");
  if (!names.includes("host")) throw fail("SignedHeaders must include host.");
  return names;
}

/**
 * Read the SigV4 signature a request carries. Undefined when it carries none (anonymous);
 * throws when it carries one that is malformed or of an unsupported kind. SigV2 requests
 * are read by sigv2-verify.ts before this is asked.
 */
export function readClaim(req: InboundRequest): SigV4Claim | undefined {
  const authorization = req.headers.get("authorization");
  if (authorization !== null) {
    checkOneMechanism(authorization, req.query);
    return readHeaderClaim(authorization, req.headers);
  }
  if (queryParam(req.query, "X-Amz-Algorithm") !== undefined) return readPresignedClaim(req);
  return undefined;
}

/**
 * One credential per request, as S3 insists: an Authorization header beside presign
 * parameters, or two Authorization headers (Bun joins them with ", "), would leave which
 * one is checked and which one the reader believes to chance.
 */
export function checkOneMechanism(authorization: string, query: readonly QueryParam[]): void {
  const presigned = queryParam(query, "X-Amz-Algorithm") !== undefined || queryParam(query, "AWSAccessKeyId") !== undefined || queryParam(query, "Signature") !== undefined;
  if (presigned || /,\s*(?:AWS4-HMAC-SHA256|AWS|Bearer)\s/.test(authorization)) {
    throw new S3Error("InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified", { ArgumentName: "Authorization" });
  }
}

function readHeaderClaim(authorization: string, headers: Headers): SigV4Claim {
  const space = authorization.indexOf(" ");
  const algorithm = space === -1 ? authorization : authorization.slice(0, space);
  if (algorithm !== ALGORITHM) throw unsupported();
  const fields = new Map<string, string>();
  for (const part of authorization.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    const name = part.slice(0, eq).trim();
    if (eq === -1 || fields.has(name)) throw malformedHeader("expected Credential, SignedHeaders and Signature.");
    fields.set(name, part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeaders || !signature) throw malformedHeader("expected Credential, SignedHeaders and Signature.");
  if (!SIGNATURE.test(signature)) throw malformedHeader("the Signature must be 64 lower-case hex digits.");
  // Named fields rather than a spread: copying properties showed in profiles of every request.
  const { accessKeyId, date, region, service, scope } = splitCredential(credential, malformedHeader);
  const { amzDate, time } = headerDate(headers);
  const payloadHash = headers.get("x-amz-content-sha256");
  if (payloadHash === null) throw new S3Error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  return { presigned: false, accessKeyId, date, region, service, scope, amzDate, time, signedHeaders: splitSignedHeaders(signedHeaders, malformedHeader), signature, payloadHash };
}

/** X-Amz-Date, else the HTTP Date header converted to the SigV4 form. */
function headerDate(headers: Headers): { amzDate: string; time: number } {
  const amz = headers.get("x-amz-date");
  if (amz !== null) {
    const parsed = parseAmzDate(amz);
    if (!parsed) throw new S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
    return { amzDate: amz, time: parsed.getTime() };
  }
  const http = headers.get("date");
  const parsed = http === null ? NaN : Date.parse(http);
  if (Number.isNaN(parsed)) throw new S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  // Whole seconds, as the SigV4 form carries them, so time and amzDate agree.
  const amzDate = toAmzDate(new Date(parsed));
  return { amzDate, time: parseAmzDate(amzDate)!.getTime() };
}

function readPresignedClaim(req: InboundRequest): SigV4Claim {
  const get = (name: string) => {
    const v = queryParam(req.query, name);
    if (v === undefined || v === "") throw malformedQuery(`Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.`);
    return v;
  };
  if (get("X-Amz-Algorithm") !== ALGORITHM) throw malformedQuery(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  const { accessKeyId, date, region, service, scope } = splitCredential(get("X-Amz-Credential"), malformedQuery);
  const amzDate = get("X-Amz-Date");
  const parsed = parseAmzDate(amzDate);
  if (!parsed) throw malformedQuery("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  const expiresText = get("X-Amz-Expires");
  const expiresSeconds = Number(expiresText);
  if (!/^\d+$/.test(expiresText) || expiresSeconds < 1) throw malformedQuery("X-Amz-Expires should be a number of seconds");
  if (expiresSeconds > MAX_PRESIGN_SECONDS) throw malformedQuery(`X-Amz-Expires must be less than a week (in seconds) that is; ${MAX_PRESIGN_SECONDS}`);
  const signature = get("X-Amz-Signature");
  if (!SIGNATURE.test(signature)) throw malformedQuery("X-Amz-Signature must be 64 lower-case hex digits.");
  const signedHeaders = splitSignedHeaders(get("X-Amz-SignedHeaders"), malformedQuery);
  // A presigned URL covers no body unless the signer chose to sign a payload hash header.
  const payloadHash = signedHeaders.includes("x-amz-content-sha256") ? (req.headers.get("x-amz-content-sha256") ?? UNSIGNED_PAYLOAD) : UNSIGNED_PAYLOAD;
  return { presigned: true, accessKeyId, date, region, service, scope, amzDate, time: parsed.getTime(), signedHeaders, signature, payloadHash, expiresSeconds };
}

/** The scope must name a region this proxy answers for, service s3, and the request's own date. */
export function checkScope(claim: SigV4Claim, regions: readonly string[]): void {
  const fail = claim.presigned ? malformedQuery : malformedHeader;
  if (!regions.includes(claim.region)) {
    const err = fail(`the region '${claim.region}' is wrong; expecting '${regions[0]}'`);
    throw new S3Error(err.code, err.message, { Region: regions[0]! });
  }
  if (claim.service !== "s3") throw fail(`incorrect service "${claim.service}". This endpoint belongs to "s3".`);
  if (claim.date !== claim.amzDate.slice(0, 8)) throw fail(`invalid credential date "${claim.date}". This date is not the same as X-Amz-Date: "${claim.amzDate.slice(0, 8)}".`);
}

/** Header auth: within 15 minutes of now. Presigned: not from the future, not expired. */
export function checkTime(claim: SigV4Claim, now: number): void {
  const t = claim.time;
  // The server time is only named in errors; formatting it costs more than the check.
  const serverTime = () => toAmzDate(new Date(now));
  if (claim.presigned) {
    if (t - now > MAX_SKEW_MS) throw new S3Error("AccessDenied", "Request is not valid yet", { "X-Amz-Date": claim.amzDate, ServerTime: serverTime() });
    if (now > t + claim.expiresSeconds! * 1000) {
      throw new S3Error("AccessDenied", "Request has expired", { "X-Amz-Expires": String(claim.expiresSeconds), Expires: toAmzDate(new Date(t + claim.expiresSeconds! * 1000)), ServerTime: serverTime() });
    }
    return;
  }
  if (Math.abs(t - now) > MAX_SKEW_MS) {
    throw new S3Error("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", {
      RequestTime: claim.amzDate,
      ServerTime: serverTime(),
      MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    });
  }
}

/**
 * S3 refuses x-amz-* headers the signature does not cover, on header-signed and presigned
 * requests alike: they change what a request does (a copy source turns a presigned PUT into
 * a copy from elsewhere), and the backend request carrying them is signed with the proxy's key.
 */
export function checkSignedAmzHeaders(claim: SigV4Claim, headers: Headers): void {
  const unsigned: string[] = [];
  headers.forEach((_, name) => {
    if (name.startsWith("x-amz-") && !claim.signedHeaders.includes(name)) unsigned.push(name);
  });
  if (unsigned.length > 0) throw new S3Error("AccessDenied", "There were headers present in the request which were not signed", { HeadersNotSigned: unsigned.join(", ") });
}

/**
 * Check the signature with the signing key for the claim's scope. On mismatch, the
 * expected canonical request and string to sign go to `debug` (never to the client).
 */
export function verifySignature(req: InboundRequest, claim: SigV4Claim, signingKey: Uint8Array, debug?: (message: string) => void): void {
  const input: CanonicalInput = {
    method: req.method,
    rawPath: req.rawPath,
    query: req.query,
    headers: req.headers,
    signedHeaders: claim.signedHeaders,
    payloadHash: claim.payloadHash,
    presigned: claim.presigned,
  };
  const canonical = canonicalRequest(input);
  const toSign = stringToSign(claim.amzDate, claim.scope, canonical);
  const expected = hmac(signingKey, toSign).toString("hex");
  if (!signaturesEqual(expected, claim.signature)) {
    debug?.(`SignatureDoesNotMatch for ${claim.accessKeyId}; canonical request:\n${printableCanonicalRequest(input)}\nstring to sign:\n${toSign}`);
    throw new S3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
  }
}
