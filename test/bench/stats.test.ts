import { expect, test } from "bun:test";
import { atLeast, atMost, formatBytes, formatSummary, percentile, summarize } from "../../scripts/bench/stats.ts";

test("percentile is nearest-rank over the unsorted sample", () => {
  const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  expect(percentile(xs, 50)).toBe(5);
  expect(percentile(xs, 99)).toBe(10);
  expect(percentile(xs, 0)).toBe(1);
  expect(percentile([], 50)).toBeNaN();
});

test("summarize gives the median and the spread of the repetitions", () => {
  expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
  expect(formatSummary(summarize([3, 1, 2]), 0)).toBe("2 (1–3)");
  expect(formatSummary(summarize([7]), 0)).toBe("7");
  expect(formatSummary(summarize([]))).toBe("n/a");
});

test("targets compare in the stated direction and say n/a when unmeasured", () => {
  expect(atLeast(0.9, 0.85).met).toBe(true);
  expect(atLeast(0.8, 0.85).met).toBe(false);
  expect(atLeast(NaN, 1).met).toBeNull();
  expect(atMost(1.3, 1.25, String).met).toBe(false);
  expect(atMost(1.25, 1.25, String).met).toBe(true);
});

test("formatBytes names sizes in binary units", () => {
  expect(formatBytes(4096)).toBe("4 KiB");
  expect(formatBytes(1024 * 1024)).toBe("1 MiB");
  expect(formatBytes(1.5 * 1024 * 1024)).toBe("1.5 MiB");
  expect(formatBytes(12)).toBe("12 B");
});
