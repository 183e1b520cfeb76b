/**
 * The request pipeline, in the one direction data flows:
 *   request → parse into an S3 operation → authenticate → (cache or) forward → respond.
 * Errors are thrown as S3Error wherever they arise and rendered here, once. One access-log
 * line per request.
 */
import type { Authenticate } from "../auth/authenticate.ts";
import type { Logger } from "../log.ts";
import { renderError } from "../s3/errors.ts";
import { parseOperation, type ParseOptions, type S3Operation } from "../s3/operation.ts";
import type { UpstreamClient } from "../upstream/client.ts";
import { forward } from "./forward.ts";
import { relayResponse, type RelayOptions } from "./respond.ts";
import { nextRequestId } from "./request-id.ts";

export interface ProxyContext {
  upstream: UpstreamClient;
  /** Verifies the client before anything is served or forwarded (src/auth/). */
  authenticate: Authenticate;
  parse: ParseOptions;
  relay: RelayOptions;
  log: Logger;
}

/** What the access log records about one request; filled in as the request moves along. */
export interface RequestRecord {
  requestId: string;
  op?: S3Operation;
  /** Who the request was authenticated as. */
  principal?: string;
  upstreamMs?: number;
  cache?: "HIT" | "MISS" | "PARTIAL" | "BYPASS";
}

export type Handler = (req: Request) => Promise<Response>;

export function createHandler(ctx: ProxyContext): Handler {
  return async (req) => {
    const started = performance.now();
    const record: RequestRecord = { requestId: nextRequestId() };
    const url = new URL(req.url);
    let res: Response;
    try {
      const op = parseOperation(req.method, url, req.headers, ctx.parse);
      record.op = op;
      const auth = await ctx.authenticate(op, req);
      record.principal = auth.identity.principal;
      const t0 = performance.now();
      const upstreamRes = await forward(ctx.upstream, { op, body: auth.body, signal: req.signal, observeChunks: auth.observeChunks, credentials: auth.credentials });
      record.upstreamMs = performance.now() - t0;
      res = await relayResponse(upstreamRes, req.method, ctx.relay);
    } catch (err) {
      if (!(err instanceof Error && err.name === "S3Error")) ctx.log.error(`request ${record.requestId} failed:`, err);
      res = renderError(err, { requestId: record.requestId, resource: url.pathname, method: req.method });
    }
    if (!res.headers.has("x-amz-request-id")) res.headers.set("x-amz-request-id", record.requestId);
    logAccess(ctx.log, req.method, url, res, record, performance.now() - started);
    return res;
  };
}

function logAccess(log: Logger, method: string, url: URL, res: Response, record: RequestRecord, ms: number): void {
  if (log.level < 3) return;
  log.info({
    message: `${method} ${url.pathname} ${res.status}`,
    requestId: record.requestId,
    principal: record.principal,
    op: record.op?.kind,
    bucket: record.op?.bucket,
    key: record.op?.key,
    range: record.op?.headers.get("range") ?? undefined,
    status: res.status,
    bytes: Number(res.headers.get("content-length") ?? 0),
    cache: record.cache,
    ms: round(ms),
    upstreamMs: record.upstreamMs === undefined ? undefined : round(record.upstreamMs),
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
