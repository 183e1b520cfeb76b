/**
 * S3 errors the proxy itself produces. Each is a typed value thrown where it arises and
 * rendered to XML in exactly one place (`renderError`). Backend errors never pass through
 * here: they are streamed back untouched.
 */
import { buildXml } from "./xml.ts";

/** The HTTP status S3 uses for each error code the proxy can produce. */
export const ERROR_STATUS = {
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  BadGateway: 502,
  EntityTooLarge: 400,
  GatewayTimeout: 504,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  InvalidURI: 400,
  MalformedXML: 400,
  MaxMessageLengthExceeded: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  NotModified: 304,
  PreconditionFailed: 412,
  RequestHeaderSectionTooLarge: 400,
  RequestTimeTooSkewed: 403,
  ServiceUnavailable: 503,
  SignatureDoesNotMatch: 403,
  SlowDown: 503,
  XAmzContentSHA256Mismatch: 400,
} as const;

export type S3ErrorCode = keyof typeof ERROR_STATUS;

export class S3Error extends Error {
  readonly status: number;
  constructor(
    readonly code: S3ErrorCode,
    message: string,
    /** Extra elements S3 adds to some errors (e.g. `Region`, `ServerTime`). */
    readonly details: Record<string, string> = {},
    /** Extra response headers (e.g. `Content-Range` on a 416). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "S3Error";
    this.status = ERROR_STATUS[code];
  }
}

/**
 * The backend's answer broke off after its headers: the connection reset or stalled
 * mid-body, or the body ended short. Nothing of such an answer is kept, and a read that has
 * sent the client nothing yet may ask again.
 */
export class BrokenBody extends S3Error {}

export interface ErrorContext {
  requestId: string;
  /** The resource the request named, e.g. `/bucket/key`. */
  resource: string;
  method: string;
}

/** Turn any thrown value into the S3 error response a client expects. */
export function renderError(err: unknown, ctx: ErrorContext): Response {
  const e = err instanceof S3Error ? err : new S3Error("InternalError", "We encountered an internal error. Please try again.");
  const headers = new Headers(e.headers);
  headers.set("x-amz-request-id", ctx.requestId);
  // HEAD and 304 answers carry no body, like S3's own.
  if (ctx.method === "HEAD" || e.status === 304) return new Response(null, { status: e.status, headers });
  headers.set("content-type", "application/xml");
  const body = buildXml({
    Error: { Code: e.code, Message: e.message, ...e.details, Resource: ctx.resource, RequestId: ctx.requestId },
  });
  headers.set("content-length", String(Buffer.byteLength(body))); // readable by the access log
  return new Response(body, { status: e.status, headers });
}
