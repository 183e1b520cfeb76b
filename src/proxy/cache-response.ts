/**
 * The client's response for an answer the cache gave (src/cache/read-through.ts): the
 * object's stored headers, the exact Content-Length and Content-Range, and `x-cache`.
 */
import type { CacheAnswer, CacheResult } from "../cache/read-through.ts";
import type { ObjectMeta } from "../cache/meta-cache.ts";
import { contentRange, rangeLength } from "../s3/range.ts";

export function cacheResponse(answer: CacheAnswer, requestId: string): Response {
  if (answer.kind === "recorded") {
    const headers = new Headers(answer.recorded.headers as Array<[string, string]>);
    headers.set("x-cache", answer.result);
    headers.set("x-amz-request-id", requestId);
    return new Response(answer.head ? null : answer.recorded.body, { status: answer.recorded.status, headers });
  }
  const headers = objectHeaders(answer.meta, answer.result, requestId);
  if (answer.status === 304) return new Response(null, { status: 304, headers });
  if (answer.head) {
    headers.set("content-length", String(answer.meta.size));
    return new Response(null, { status: 200, headers });
  }
  // A byte body: Bun sends its exact Content-Length itself.
  if (answer.status === 206) headers.set("content-range", contentRange(answer.range!, answer.meta.size));
  return new Response(answer.body, { status: answer.status, headers });
}

/** The Content-Length of the answer (a HEAD's is the object's size). */
export function answerBytes(answer: CacheAnswer): number {
  if (answer.kind === "recorded") return answer.head ? 0 : answer.recorded.body.byteLength;
  if (answer.head) return answer.meta.size;
  return answer.status === 304 || !answer.range ? 0 : rangeLength(answer.range);
}

/**
 * Object headers built once per metadata entry (with `x-cache: HIT`, the usual answer),
 * copied for each answer: copying a Headers is cheaper than building one from a record, and
 * each header set on the copy costs about as much again (the hit path does it on every request).
 */
const headerSets = new WeakMap<ObjectMeta, Headers>();

function objectHeaders(meta: ObjectMeta, result: CacheResult, requestId: string): Headers {
  let base = headerSets.get(meta);
  if (!base) {
    base = new Headers(meta.headers as Array<[string, string]>);
    base.set("x-cache", "HIT");
    headerSets.set(meta, base);
  }
  const headers = new Headers(base);
  if (result !== "HIT") headers.set("x-cache", result);
  headers.set("x-amz-request-id", requestId);
  return headers;
}
