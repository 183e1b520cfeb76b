import { expect, test } from "bun:test";
import { planRanges } from "../../scripts/bench/scenarios/_ranges.ts";

const CFG = { objectSize: 4 * 1024 * 1024, requests: 300, minSize: 16 * 1024, maxSize: 64 * 1024, inFlight: 8 };

test("the planned ranges are the same every run, sized within bounds and inside the object", () => {
  const ranges = planRanges(CFG);
  expect(planRanges(CFG)).toEqual(ranges);
  expect(ranges).toHaveLength(300);
  for (const r of ranges) {
    expect(r.length).toBeGreaterThanOrEqual(CFG.minSize);
    expect(r.length).toBeLessThanOrEqual(CFG.maxSize);
    expect(r.offset).toBeGreaterThanOrEqual(0);
    expect(r.offset + r.length).toBeLessThanOrEqual(CFG.objectSize);
  }
  // Spread over the object, not bunched at its start.
  expect(Math.max(...ranges.map((r) => r.offset))).toBeGreaterThan(CFG.objectSize / 2);
});
