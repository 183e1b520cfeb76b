/**
 * What S3 answers to a GET or HEAD of one object state, as a pure function: the oracle of
 * the cache fuzzer and the logic of the reference backend, so the two cannot disagree.
 * Written from S3's documentation, independently of src/ (see /work/shared/S3-NOTES.md):
 *  - preconditions first (RFC 9110 §13.2.2 order): If-Match, else If-Unmodified-Since → 412;
 *    If-None-Match, else If-Modified-Since → 304; a missing object is 404 before any of them;
 *  - then Range: `bytes=a-b` (b clipped), `bytes=a-`, `bytes=-n`; a start at or past the end,
 *    a zero suffix or any range of an empty object → 416 with `Content-Range: bytes *\/size`;
 *    several ranges, or a header that does not parse, are ignored (200, whole object).
 */

export interface ObjectState {
  bytes: Uint8Array;
  /** Quoted MD5 hex, as S3 gives for single-part uploads. */
  etag: string;
  /** HTTP date (second resolution). */
  lastModified: string;
}

export interface Answer {
  status: number;
  /** Only the headers the fuzzer checks. */
  headers: { etag?: string; "last-modified"?: string; "content-range"?: string; "content-length"?: string };
  body: Uint8Array;
  /** The S3 error code, for error answers. */
  code?: string;
}

const EMPTY = new Uint8Array(0);

export function objectState(bytes: Uint8Array, lastModifiedMs: number): ObjectState {
  const md5 = new Bun.CryptoHasher("md5").update(bytes).digest("hex");
  return { bytes, etag: `"${md5}"`, lastModified: new Date(lastModifiedMs).toUTCString() };
}

export function errorXml(code: string, message: string): Uint8Array {
  return new TextEncoder().encode(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

function error(status: number, code: string, method: string, headers: Answer["headers"] = {}): Answer {
  return { status, code, headers, body: method === "HEAD" ? EMPTY : errorXml(code, code) };
}

function tagsMatch(header: string, etag: string): boolean {
  const bare = (t: string) => t.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
  return header.split(",").some((t) => t.trim() === "*" || bare(t) === bare(etag));
}

/** Seconds since the epoch of an HTTP date; undefined when it does not parse (the header is then ignored). */
function seconds(date: string | null): number | undefined {
  if (date === null) return undefined;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

function precondition(obj: ObjectState, h: Headers): "proceed" | 304 | 412 {
  const modified = seconds(obj.lastModified)!;
  const ifMatch = h.get("if-match");
  const unmodifiedSince = seconds(h.get("if-unmodified-since"));
  if (ifMatch !== null ? !tagsMatch(ifMatch, obj.etag) : unmodifiedSince !== undefined && modified > unmodifiedSince) return 412;
  const ifNoneMatch = h.get("if-none-match");
  const modifiedSince = seconds(h.get("if-modified-since"));
  if (ifNoneMatch !== null ? tagsMatch(ifNoneMatch, obj.etag) : modifiedSince !== undefined && modified <= modifiedSince) return 304;
  return "proceed";
}

/** The byte range to send, "whole" when the header is absent or ignored, or "unsatisfiable". */
export function rangeOf(header: string | null, size: number): { start: number; end: number } | "whole" | "unsatisfiable" {
  if (header === null || header.includes(",")) return "whole";
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "whole";
  if (m[1] === "") {
    const n = Number(m[2]);
    return n === 0 || size === 0 ? "unsatisfiable" : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Number(m[2]);
  if (end < start && m[2] !== "") return "whole";
  return start >= size ? "unsatisfiable" : { start, end: Math.min(end, size - 1) };
}

export function answer(obj: ObjectState | undefined, method: "GET" | "HEAD", h: Headers): Answer {
  if (!obj) return error(404, "NoSuchKey", method);
  const validators = { etag: obj.etag, "last-modified": obj.lastModified };
  const pre = precondition(obj, h);
  if (pre === 412) return error(412, "PreconditionFailed", method);
  if (pre === 304) return { status: 304, headers: validators, body: EMPTY };
  const size = obj.bytes.length;
  if (method === "HEAD") return { status: 200, headers: { ...validators, "content-length": String(size) }, body: EMPTY };
  const range = rangeOf(h.get("range"), size);
  if (range === "unsatisfiable") return error(416, "InvalidRange", method, { "content-range": `bytes */${size}` });
  if (range === "whole") return { status: 200, headers: { ...validators, "content-length": String(size) }, body: obj.bytes };
  const body = obj.bytes.subarray(range.start, range.end + 1);
  return { status: 206, headers: { ...validators, "content-length": String(body.length), "content-range": `bytes ${range.start}-${range.end}/${size}` }, body };
}
