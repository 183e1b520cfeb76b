/**
 * What the cache does with a GET or HEAD, decided from the request and what it knows of the
 * object, before any byte is read. Pure: no I/O, no clock.
 */
import { evaluateConditions } from "./conditionals.ts";
import type { ObjectMeta } from "./meta-cache.ts";
import { rangeLength, resolveRange, type ByteRange, type ParsedRange } from "../s3/range.ts";

/** The parts of a request the decisions read. */
export interface ReadRequest {
  head: boolean;
  /** The parsed Range header (undefined when absent; always undefined for HEAD). */
  range: ParsedRange | undefined;
  headers: Headers;
}

export interface Limits {
  /** Largest object whose whole-object GET is answered from the blocks. */
  maxObjectSize: number;
  /** Largest range answered from the blocks; longer ones are forwarded, so one read cannot flush the cache. */
  maxRangeSize: number;
}

/** How to learn an object the cache does not know. */
export type DiscoveryPlan =
  /** The client's bounded range, widened to whole blocks: one round trip, like going direct. */
  | { how: "range"; range: ByteRange }
  /**
   * The object's last `length` bytes, widened to whole blocks (a suffix GET): for a suffix
   * range, and for the HEAD of a file whose reader asks for its end next (a Parquet footer).
   * Its headers describe the object as a HEAD's would, so one round trip answers the HEAD and
   * brings the footer.
   */
  | { how: "tail"; length: number }
  /**
   * A HEAD first (a HEAD itself, open-ended ranges, expired metadata a tier still holds, or a
   * range longer than the cache answers: the object may be shorter than it asks).
   */
  | { how: "head" }
  /** A whole-object GET: forwarded, and learned from its answer. */
  | { how: "forward" };

/**
 * `headTail`: the bytes from the end a HEAD's reader will ask for next, when the object is
 * one such reader reads (undefined: a HEAD is discovered with a HEAD).
 */
export function discoveryPlan(req: ReadRequest, revalidate: boolean, limits: Pick<Limits, "maxRangeSize">, headTail?: number): DiscoveryPlan {
  const range = req.range;
  if (revalidate) return { how: "head" };
  if (req.head) return headTail === undefined ? { how: "head" } : { how: "tail", length: headTail };
  if (range === undefined || range === "ignored") return { how: "forward" };
  if (range === "multi" || range.kind === "from") return { how: "head" };
  // A widened read is adopted whole, so it is made only for a range the cache would keep.
  const length = range.kind === "suffix" ? range.length : range.end - range.start + 1;
  if (length === 0 || length > limits.maxRangeSize) return { how: "head" };
  return range.kind === "suffix" ? { how: "tail", length } : { how: "range", range: { start: range.start, end: range.end } };
}

export type Decision =
  | { kind: "not-modified" }
  | { kind: "precondition-failed"; condition: "If-Match" | "If-Unmodified-Since" }
  | { kind: "head" }
  | { kind: "unsatisfiable" }
  /** Answer these bytes from the blocks: the whole object (200) or a range (206); no range for an empty object. */
  | { kind: "bytes"; status: 200 | 206; range?: ByteRange }
  | { kind: "forward" };

/** Conditionals first (S3's order), then the range against the object's size and the limits. */
export function decide(req: ReadRequest, meta: ObjectMeta, limits: Limits): Decision {
  const condition = evaluateConditions(req.headers, meta);
  if (condition === "precondition-failed") return { kind: "precondition-failed", condition: req.headers.has("if-match") ? "If-Match" : "If-Unmodified-Since" };
  if (condition === "not-modified") return { kind: "not-modified" };
  if (req.head) return { kind: "head" };
  if (!meta.cacheable) return { kind: "forward" };
  const range = req.range;
  if (range === undefined || range === "ignored" || range === "multi") {
    if (meta.size > limits.maxObjectSize) return { kind: "forward" };
    return meta.size === 0 ? { kind: "bytes", status: 200 } : { kind: "bytes", status: 200, range: { start: 0, end: meta.size - 1 } };
  }
  const wanted = resolveRange(range, meta.size);
  if (wanted === "unsatisfiable") return { kind: "unsatisfiable" };
  return rangeLength(wanted) > limits.maxRangeSize ? { kind: "forward" } : { kind: "bytes", status: 206, range: wanted };
}
