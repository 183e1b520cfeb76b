import { expect, test } from "bun:test";
import { decide, discoveryPlan, type ReadRequest } from "../../src/cache/decide.ts";
import type { ObjectMeta } from "../../src/cache/meta-cache.ts";
import { parseRange } from "../../src/s3/range.ts";

const meta: ObjectMeta = { size: 100, etag: '"abc"', lastModified: "Tue, 01 Dec 2026 10:00:00 GMT", headers: [], cacheable: true };
const limits = { maxObjectSize: 1000, maxRangeSize: 50 };
const get = (headers: Record<string, string> = {}): ReadRequest => ({ head: false, range: parseRange(headers.range ?? null), headers: new Headers(headers) });
const head = (headers: Record<string, string> = {}): ReadRequest => ({ head: true, range: undefined, headers: new Headers(headers) });

test("conditionals come before the range, in S3's order", () => {
  expect(decide(get({ "if-match": '"other"', range: "bytes=500-" }), meta, limits)).toEqual({ kind: "precondition-failed", condition: "If-Match" });
  expect(decide(get({ "if-unmodified-since": "Mon, 30 Nov 2026 10:00:00 GMT" }), meta, limits)).toEqual({ kind: "precondition-failed", condition: "If-Unmodified-Since" });
  expect(decide(get({ "if-none-match": '"abc"', range: "bytes=500-" }), meta, limits)).toEqual({ kind: "not-modified" });
  expect(decide(head({ "if-none-match": '"abc"' }), meta, limits)).toEqual({ kind: "not-modified" });
});

test("ranges resolve against the size: 206 within it, unsatisfiable past it, forwarded when too long", () => {
  expect(decide(get({ range: "bytes=10-19" }), meta, limits)).toEqual({ kind: "bytes", status: 206, range: { start: 10, end: 19 } });
  expect(decide(get({ range: "bytes=-5" }), meta, limits)).toEqual({ kind: "bytes", status: 206, range: { start: 95, end: 99 } });
  expect(decide(get({ range: "bytes=90-500" }), meta, limits)).toEqual({ kind: "bytes", status: 206, range: { start: 90, end: 99 } });
  expect(decide(get({ range: "bytes=100-" }), meta, limits)).toEqual({ kind: "unsatisfiable" });
  expect(decide(get({ range: "bytes=-0" }), meta, limits)).toEqual({ kind: "unsatisfiable" });
  expect(decide(get({ range: "bytes=0-60" }), meta, limits)).toEqual({ kind: "forward" });
});

test("whole-object GETs are answered from the blocks up to the size limit; uncacheable objects are forwarded", () => {
  expect(decide(get(), meta, limits)).toEqual({ kind: "bytes", status: 200, range: { start: 0, end: 99 } });
  expect(decide(get({ range: "bytes=0-1,5-6" }), meta, limits)).toEqual({ kind: "bytes", status: 200, range: { start: 0, end: 99 } });
  expect(decide(get(), { ...meta, size: 0 }, limits)).toEqual({ kind: "bytes", status: 200 });
  expect(decide(get(), { ...meta, size: 2000 }, limits)).toEqual({ kind: "forward" });
  expect(decide(get({ range: "bytes=0-9" }), { ...meta, cacheable: false }, limits)).toEqual({ kind: "forward" });
  expect(decide(head(), { ...meta, cacheable: false }, limits)).toEqual({ kind: "head" });
});

test("an unknown object is discovered with the client's bounded range, its suffix, a HEAD (or a Parquet HEAD with its tail), or its own forwarded GET", () => {
  expect(discoveryPlan(get({ range: "bytes=5-9" }), false, limits)).toEqual({ how: "range", range: { start: 5, end: 9 } });
  expect(discoveryPlan(get({ range: "bytes=5-9" }), true, limits)).toEqual({ how: "head" });
  expect(discoveryPlan(get({ range: "bytes=5-" }), false, limits)).toEqual({ how: "head" });
  expect(discoveryPlan(get({ range: "bytes=-5" }), false, limits)).toEqual({ how: "tail", length: 5 });
  expect(discoveryPlan(get({ range: "bytes=-5" }), true, limits)).toEqual({ how: "head" });
  expect(discoveryPlan(get({ range: "bytes=-0" }), false, limits)).toEqual({ how: "head" });
  expect(discoveryPlan(get({ range: "bytes=-51" }), false, limits)).toEqual({ how: "head" });
  expect(discoveryPlan(get({ range: "bytes=0-1,5-6" }), false, limits)).toEqual({ how: "head" });
  expect(discoveryPlan(head(), false, limits)).toEqual({ how: "head" });
  expect(discoveryPlan(head(), false, limits, 64)).toEqual({ how: "tail", length: 64 });
  expect(discoveryPlan(head(), true, limits, 64)).toEqual({ how: "head" });
  expect(discoveryPlan(get(), false, limits)).toEqual({ how: "forward" });
  expect(discoveryPlan(get({ range: "junk" }), false, limits)).toEqual({ how: "forward" });
});

test("a bounded range longer than the cache answers is discovered with a HEAD, never with a widened read of its own length", () => {
  expect(discoveryPlan(get({ range: "bytes=0-49" }), false, limits)).toEqual({ how: "range", range: { start: 0, end: 49 } });
  expect(discoveryPlan(get({ range: "bytes=0-50" }), false, limits)).toEqual({ how: "head" });
  expect(discoveryPlan(get({ range: "bytes=0-99999999999" }), false, limits)).toEqual({ how: "head" });
});
