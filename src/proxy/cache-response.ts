/**
 * The client's response for an answer the cache gave (src/cache/read-through.ts): the
 * object's stored headers, the exact Content-Length and Content-Range, and `x-cache`.
 */
import type { CacheAnswer, CacheResult } from "../cache/read-through.ts";
import type { ObjectMeta } from "../cache/meta-cache.ts";
import { contentRange, rangeLength } from "../s3/range.ts";

export function cacheResponse(answer: CacheAnswer): Response {
  if (answer.kind === "recorded") {
    const headers = new Headers(answer.recorded.headers as Array<[string, string]>);
    headers.set("x-cache", answer.result);
    return new Response(answer.head ? null : answer.recorded.body, { status: answer.recorded.status, headers });
  }
  const headers = objectHeaders(answer.meta, answer.result);
  if (answer.status === 304) return new Response(null, { status: 304, headers });
  if (answer.head) return new Response(null, { status: 200, headers: { ...headers, "content-length": String(answer.meta.size) } });
  // Content-Length is what Bun sends anyway; set here so the access log can read it.
  const length = answer.range ? rangeLength(answer.range) : 0;
  const extra: Record<string, string> = answer.status === 206 ? { "content-length": String(length), "content-range": contentRange(answer.range!, answer.meta.size) } : { "content-length": String(length) };
  return new Response(answer.body, { status: answer.status, headers: { ...headers, ...extra } });
}

/** Object headers as a plain record, built once per metadata entry (the hit path spreads it). */
const headerRecords = new WeakMap<ObjectMeta, Record<string, string>>();

function objectHeaders(meta: ObjectMeta, result: CacheResult): Record<string, string> {
  let record = headerRecords.get(meta);
  if (!record) {
    record = {};
    for (const [k, v] of meta.headers) record[k] = record[k] === undefined ? v : `${record[k]}, ${v}`;
    headerRecords.set(meta, record);
  }
  return { ...record, "x-cache": result };
}
