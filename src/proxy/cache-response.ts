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
  if (answer.head) return new Response(null, { status: 200, headers: { ...headers, "content-length": String(answer.meta.size) } });
  const length = String(answerBytes(answer));
  const extra: Record<string, string> = answer.status === 206 ? { "content-length": length, "content-range": contentRange(answer.range!, answer.meta.size) } : { "content-length": length };
  return new Response(answer.body, { status: answer.status, headers: { ...headers, ...extra } });
}

/** The Content-Length of the answer (a HEAD's is the object's size). */
export function answerBytes(answer: CacheAnswer): number {
  if (answer.kind === "recorded") return answer.head ? 0 : answer.recorded.body.byteLength;
  if (answer.head) return answer.meta.size;
  return answer.status === 304 || !answer.range ? 0 : rangeLength(answer.range);
}

/** Object headers as a plain record, built once per metadata entry (the hit path spreads it). */
const headerRecords = new WeakMap<ObjectMeta, Record<string, string>>();

function objectHeaders(meta: ObjectMeta, result: CacheResult, requestId: string): Record<string, string> {
  let record = headerRecords.get(meta);
  if (!record) {
    record = {};
    for (const [k, v] of meta.headers) record[k] = record[k] === undefined ? v : `${record[k]}, ${v}`;
    headerRecords.set(meta, record);
  }
  return { ...record, "x-cache": result, "x-amz-request-id": requestId };
}
