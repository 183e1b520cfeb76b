/**
 * The request pipeline, in the one direction data flows:
 *   request → parse into an S3 operation → authenticate → (cache or) forward → respond.
 * Errors are thrown as S3Error wherever they arise and rendered here, once. One access-log
 * line per request.
 */
import { actingAs } from "../auth/acting-as.ts";
import type { Authenticate, AuthResult } from "../auth/authenticate.ts";
import type { ReadGrants } from "../auth/read-grants.ts";
import { type CachePolicy, cachePolicy } from "../cache/policy.ts";
import type { CacheAnswer, ReadThroughCache } from "../cache/read-through.ts";
import type { Logger } from "../log.ts";
import { renderError, S3Error } from "../s3/errors.ts";
import { bodyMatchesEtag } from "../s3/etag.ts";
import { parseOperation, type ParseOptions, type S3Operation } from "../s3/operation.ts";
import type { UpstreamClient } from "../upstream/client.ts";
import { mayReadCache, noteBackendRead } from "./cache-access.ts";
import { answerBytes, cacheResponse } from "./cache-response.ts";
import { forward } from "./forward.ts";
import { relayResponse, type RelayOptions } from "./respond.ts";
import { nextRequestId } from "./request-id.ts";
import type { FinishedRequest, RequestRecord } from "./request-record.ts";

export interface ProxyContext {
  upstream: UpstreamClient;
  /** Verifies the client before anything is served or forwarded (src/auth/). */
  authenticate: Authenticate;
  parse: ParseOptions;
  relay: RelayOptions;
  log: Logger;
  /** Client requests in progress beyond which new ones get 503 SlowDown. */
  maxInflight: number;
  /** Undefined when caching is off (--no-cache). */
  cache?: ReadThroughCache;
  /** Web-identity mode with a cache: which identities the backend let read what. */
  grants?: ReadGrants;
  /** Hears of every request once its response is ready (the access log, metrics). */
  onFinished?: (finished: FinishedRequest) => void;
}

export type Handler = (req: Request) => Response | Promise<Response>;

export function createHandler(ctx: ProxyContext): Handler {
  let inflight = 0;
  return (req) => {
    const started = performance.now();
    const record: RequestRecord = { requestId: nextRequestId() };
    // Bun builds req.url from the Host header: a missing or malformed one leaves no URL.
    const url = URL.parse(req.url);
    const path = url?.pathname ?? rawPath(req.url);
    const failed = (err: unknown): Response => {
      // A client that went away mid-request is no server error worth a log line.
      if (!(err instanceof S3Error) && !req.signal.aborted) ctx.log.error(`request ${record.requestId} failed:`, err);
      record.error = err instanceof S3Error ? err.code : "InternalError";
      // A body chunk or trailer that fails its signature is refused while it streams.
      if (record.error === "SignatureDoesNotMatch") record.authFailure ??= record.error;
      return renderError(err, { requestId: record.requestId, resource: path, method: req.method });
    };
    const done = (res: Response): Response => {
      inflight--;
      // An answer the proxy built from the cache carries its id already (record.bytes says so).
      if (record.bytes === undefined && !res.headers.has("x-amz-request-id")) res.headers.set("x-amz-request-id", record.requestId);
      ctx.onFinished?.({ method: req.method, path, res, record, ms: performance.now() - started });
      return res;
    };
    inflight++;
    try {
      if (inflight > ctx.maxInflight) throw new S3Error("SlowDown", "Please reduce your request rate.");
      if (url === null) throw new S3Error("InvalidArgument", "The Host header is missing or is not a valid host.", { ArgumentName: "Host" });
      const res = handle(ctx, req, url, record);
      // A hit from memory is answered without a promise: on the hit path that costs more than the rest of the work.
      return res instanceof Promise ? res.then(done, (err: unknown) => done(failed(err))) : done(res);
    } catch (err) {
      return done(failed(err));
    }
  };
}

/** Parse, authenticate, then cache or forward; synchronous as far as each step allows. */
function handle(ctx: ProxyContext, req: Request, url: URL, record: RequestRecord): Response | Promise<Response> {
  const op = parseOperation(req.method, url, req.headers, ctx.parse);
  record.op = op;
  const refused = (err: unknown): never => {
    if (err instanceof S3Error) record.authFailure = err.code;
    throw err;
  };
  let auth: AuthResult | Promise<AuthResult>;
  try {
    auth = ctx.authenticate(op, req);
  } catch (err) {
    return refused(err);
  }
  return auth instanceof Promise ? auth.then((a) => authorised(ctx, op, req, a, record), refused) : authorised(ctx, op, req, auth, record);
}

function authorised(ctx: ProxyContext, op: S3Operation, req: Request, auth: AuthResult, record: RequestRecord): Response | Promise<Response> {
  record.identity = { accessKeyId: auth.identity.principal };
  const policy = ctx.cache ? cachePolicy(op) : "bypass";
  // Web identity (credentials to act as) needs its read grant checked first: the full path.
  const hit = policy === "cache" && !auth.credentials ? ctx.cache!.answerFromMemory(op) : undefined;
  if (hit) return answered(hit, record);
  return actingAs(auth.credentials, () => serve(ctx, op, req, auth, record, policy));
}

/** The client's response for an answer the cache gave, noted in the record. */
function answered(answer: CacheAnswer, record: RequestRecord): Response {
  record.cache = answer.result;
  record.bytes = answerBytes(answer);
  return cacheResponse(answer, record.requestId);
}

/** The path of a request URL that did not parse: what followed the scheme and authority, without the query. */
function rawPath(url: string): string {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
  const q = path.indexOf("?");
  return q === -1 ? path : path.slice(0, q);
}

/** Cache or forward one authenticated operation. */
async function serve(ctx: ProxyContext, op: S3Operation, req: Request, auth: AuthResult, record: RequestRecord, policy: CachePolicy): Promise<Response> {
  const cache = ctx.cache;
  if (policy === "cache" && ctx.grants && !(await mayReadCache(ctx.upstream, ctx.grants, op, auth))) policy = "bypass";
  if (cache && policy === "cache") {
    const answer = await cache.serve(op);
    if (answer) return answered(answer, record);
  }
  const invalidates = cache ? invalidation(op) : undefined;
  // Before the write too, so reads racing it stop trusting what they knew (not waited for).
  if (invalidates || policy === "refresh") void cache!.invalidate(op.bucket!, invalidates === "bucket" ? undefined : op.key);
  const t0 = performance.now();
  const upstreamRes = await forward(ctx.upstream, { op, body: auth.body, signal: req.signal, observeChunks: auth.observeChunks, credentials: auth.credentials });
  record.upstreamMs = performance.now() - t0;
  noteBackendRead(ctx.grants, op, auth, upstreamRes.status);
  const relayed = await relayResponse(upstreamRes, req.method, ctx.relay);
  if (op.kind === "GetObject" && upstreamRes.status === 200 && relayed.body && !bodyMatchesEtag(upstreamRes.headers, relayed.body)) {
    throw new S3Error("BadGateway", "The backend's bytes did not match the object's MD5 ETag");
  }
  // Again after the write: a read racing it may have refilled the old metadata meanwhile.
  // Waited for (within the tier's timeout): once the client has its answer, every proxy sharing a tier has been told.
  if (invalidates) await cache!.invalidate(op.bucket!, invalidates === "bucket" ? undefined : op.key);
  if (cache && policy === "cache" && op.kind === "GetObject") cache.learn(op, upstreamRes, relayed.body);
  if (cache) {
    record.cache = policy === "cache" ? "MISS" : "BYPASS";
    relayed.response.headers.set("x-cache", record.cache);
  }
  return relayed.response;
}

/** What a request changes at the backend: one key, a whole bucket (DeleteObjects), or nothing. */
function invalidation(op: S3Operation): "key" | "bucket" | undefined {
  switch (op.kind) {
    case "PutObject":
    case "CopyObject":
    case "DeleteObject":
    case "CompleteMultipartUpload":
      return "key";
    case "ObjectSubresource":
      return op.method === "GET" ? undefined : "key";
    case "DeleteObjects":
    case "DeleteBucket":
      return "bucket";
    default:
      return undefined;
  }
}
