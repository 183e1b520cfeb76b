/**
 * What is known about one request as it moves through the pipeline, and what the pipeline
 * reports when it is done: a leaf module, so the handler and those who hear from it (access
 * log, metrics) depend on it rather than on each other.
 */
import type { CacheResult } from "../cache/read-through.ts";
import type { S3Operation } from "../s3/operation.ts";

/** What the access log records about one request; filled in as the request moves along. */
export interface RequestRecord {
  requestId: string;
  op?: S3Operation;
  upstreamMs?: number;
  cache?: CacheResult | "BYPASS";
  /** The authenticated client: its access key id, web identity or `anonymous` (never a secret). */
  identity?: { accessKeyId: string };
  /** The S3 error code the proxy answered with, if it produced the error itself. */
  error?: string;
  /** The S3 error code of a refusal by client authentication. */
  authFailure?: string;
  /**
   * The Content-Length of an answer the proxy built itself (from the cache), which already
   * carries its request id; undefined for relayed and error answers. Read instead of the
   * response's headers, which cost a copy to materialise.
   */
  bytes?: number;
}

/** A request whose response is ready. */
export interface FinishedRequest {
  method: string;
  /** The request path (the raw one when the URL did not parse). */
  path: string;
  res: Response;
  record: RequestRecord;
  ms: number;
}
