/**
 * Conditional GET/HEAD answered from cached metadata exactly as S3 answers them (RFC 9110
 * §13.2.2 order): If-Match, else If-Unmodified-Since → 412; If-None-Match, else
 * If-Modified-Since → 304. Pure.
 */

export type ConditionResult = "proceed" | "not-modified" | "precondition-failed";

export interface Validators {
  etag: string;
  lastModified?: string;
}

/** An entity tag without its weak prefix and quotes, so `W/"x"`, `"x"` and `x` compare equal. */
function bareTag(tag: string): string {
  const t = tag.trim();
  return (t.startsWith("W/") ? t.slice(2) : t).replace(/^"|"$/g, "");
}

/** Whether a header's list of entity tags (or `*`) names this ETag. */
export function etagMatches(header: string, etag: string): boolean {
  const target = bareTag(etag);
  return header.split(",").some((t) => t.trim() === "*" || bareTag(t) === target);
}

function parseDate(value: string | null): number | undefined {
  if (value === null) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

export function evaluateConditions(headers: Headers, v: Validators): ConditionResult {
  const lastModified = parseDate(v.lastModified ?? null);
  const ifMatch = headers.get("if-match");
  if (ifMatch !== null) {
    if (!etagMatches(ifMatch, v.etag)) return "precondition-failed";
  } else {
    const since = parseDate(headers.get("if-unmodified-since"));
    if (since !== undefined && lastModified !== undefined && lastModified > since) return "precondition-failed";
  }
  const ifNoneMatch = headers.get("if-none-match");
  if (ifNoneMatch !== null) {
    if (etagMatches(ifNoneMatch, v.etag)) return "not-modified";
  } else {
    const since = parseDate(headers.get("if-modified-since"));
    if (since !== undefined && lastModified !== undefined && lastModified <= since) return "not-modified";
  }
  return "proceed";
}
