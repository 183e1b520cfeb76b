import { describe, expect, test } from "bun:test";
import { blocksFor, contentRange, parseContentRange, parseRange, resolveRange } from "../../src/s3/range.ts";

describe("parseRange", () => {
  test("reads the three single-range forms", () => {
    expect(parseRange("bytes=0-99")).toEqual({ kind: "bounded", start: 0, end: 99 });
    expect(parseRange("bytes=100-")).toEqual({ kind: "from", start: 100 });
    expect(parseRange("bytes=-500")).toEqual({ kind: "suffix", length: 500 });
  });
  test("reports several ranges as multi", () => {
    expect(parseRange("bytes=0-1,5-9")).toBe("multi");
  });
  test("ignores syntactically invalid ranges, like S3", () => {
    for (const bad of ["bytes=", "bytes=-", "bytes=5-1", "items=0-1", "bytes=a-b", "0-1", "bytes=99999999999999999999-"]) {
      expect(parseRange(bad)).toBe("ignored");
    }
  });
  test("no header means no range", () => {
    expect(parseRange(null)).toBeUndefined();
  });
});

describe("resolveRange", () => {
  test("clips the end to the object", () => {
    expect(resolveRange({ kind: "bounded", start: 5, end: 1000 }, 10)).toEqual({ start: 5, end: 9 });
  });
  test("a start at or past the end is unsatisfiable", () => {
    expect(resolveRange({ kind: "bounded", start: 10, end: 20 }, 10)).toBe("unsatisfiable");
    expect(resolveRange({ kind: "from", start: 10 }, 10)).toBe("unsatisfiable");
    expect(resolveRange({ kind: "from", start: 0 }, 0)).toBe("unsatisfiable");
  });
  test("a suffix longer than the object is the whole object", () => {
    expect(resolveRange({ kind: "suffix", length: 50 }, 10)).toEqual({ start: 0, end: 9 });
    expect(resolveRange({ kind: "suffix", length: 3 }, 10)).toEqual({ start: 7, end: 9 });
    expect(resolveRange({ kind: "suffix", length: 0 }, 10)).toBe("unsatisfiable");
  });
});

describe("block math and Content-Range", () => {
  test("blocksFor names the first and last block touched", () => {
    expect(blocksFor({ start: 0, end: 0 }, 4)).toEqual({ first: 0, last: 0 });
    expect(blocksFor({ start: 3, end: 4 }, 4)).toEqual({ first: 0, last: 1 });
    expect(blocksFor({ start: 8, end: 15 }, 4)).toEqual({ first: 2, last: 3 });
  });
  test("Content-Range round-trips", () => {
    expect(contentRange({ start: 1, end: 5 }, 10)).toBe("bytes 1-5/10");
    expect(parseContentRange("bytes 1-5/10")).toEqual({ range: { start: 1, end: 5 }, size: 10 });
    expect(parseContentRange("bytes */10")).toEqual({ range: undefined, size: 10 });
    expect(parseContentRange("garbage")).toBeUndefined();
  });
});
