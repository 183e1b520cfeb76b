/**
 * HTTP Range semantics as S3 applies them. Pure.
 *  - `bytes=a-b` (b clipped to size-1), `bytes=a-`, `bytes=-n` (last n bytes);
 *  - a start at or past the end is unsatisfiable (416 InvalidRange);
 *  - a syntactically invalid header is ignored (whole object, 200);
 *  - several ranges are not supported by S3 (reported as "multi" so callers can forward them).
 */

/** An inclusive byte range within an object, like Content-Range's. */
export interface ByteRange {
  start: number;
  end: number;
}

export type RangeSpec = { kind: "bounded"; start: number; end: number } | { kind: "from"; start: number } | { kind: "suffix"; length: number };

export type ParsedRange = RangeSpec | "multi" | "ignored";

const SINGLE = /^bytes=(\d*)-(\d*)$/;

/** Parse a Range header; undefined when there is none. */
export function parseRange(header: string | null): ParsedRange | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (value.startsWith("bytes=") && value.includes(",")) return "multi";
  const m = SINGLE.exec(value);
  if (!m) return "ignored";
  const [, a, b] = m;
  if (a === "" && b === "") return "ignored";
  if (a === "") {
    const length = Number(b);
    return Number.isSafeInteger(length) ? { kind: "suffix", length } : "ignored";
  }
  const start = Number(a);
  if (!Number.isSafeInteger(start)) return "ignored";
  if (b === "") return { kind: "from", start };
  const end = Number(b);
  if (!Number.isSafeInteger(end) || end < start) return "ignored";
  return { kind: "bounded", start, end };
}

/** Resolve a range against an object size: the bytes to send, or "unsatisfiable" (416). */
export function resolveRange(spec: RangeSpec, size: number): ByteRange | "unsatisfiable" {
  switch (spec.kind) {
    case "bounded":
      return spec.start >= size ? "unsatisfiable" : { start: spec.start, end: Math.min(spec.end, size - 1) };
    case "from":
      return spec.start >= size ? "unsatisfiable" : { start: spec.start, end: size - 1 };
    case "suffix":
      return spec.length === 0 || size === 0 ? "unsatisfiable" : { start: Math.max(0, size - spec.length), end: size - 1 };
  }
}

export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}

export function rangeLength(range: ByteRange): number {
  return range.end - range.start + 1;
}

/** Block indexes [first, last] that a range touches. */
export function blocksFor(range: ByteRange, blockSize: number): { first: number; last: number } {
  return { first: Math.floor(range.start / blockSize), last: Math.floor(range.end / blockSize) };
}

/** Parse `Content-Range: bytes a-b/size`, or the unsatisfied form with a star for the range. */
export function parseContentRange(value: string | null): { range?: ByteRange; size?: number } | undefined {
  if (value === null) return undefined;
  const m = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(value.trim());
  if (!m) return undefined;
  const size = m[3] === "*" ? undefined : Number(m[3]);
  const range = m[1] === undefined ? undefined : { start: Number(m[1]), end: Number(m[2]) };
  return { range, size };
}
