import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { TopN } from "../../src/ops/top-n.ts";

describe("TopN (Space-Saving)", () => {
  test("counts exactly while fewer items than its capacity are seen", () => {
    const t = new TopN(3);
    for (const x of ["a", "b", "a", "c", "a", "b"]) t.add(x);
    expect(t.top(10)).toEqual([
      { item: "a", count: 3, error: 0 },
      { item: "b", count: 2, error: 0 },
      { item: "c", count: 1, error: 0 },
    ]);
  });

  test("never holds more than its capacity", () => {
    const t = new TopN(4);
    for (let i = 0; i < 1000; i++) t.add(`k${i}`);
    expect(t.top(100)).toHaveLength(4);
  });

  test("a heavy hitter among many one-off items stays on top", () => {
    const t = new TopN(5);
    for (let i = 0; i < 200; i++) {
      t.add("hot");
      t.add(`cold${i}`);
    }
    expect(t.top(1)[0]!.item).toBe("hot");
    expect(t.top(1)[0]!.count).toBe(200);
  });

  test("property: counts never understate, overstate by at most `error`, and frequent items are kept", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 400 }), fc.integer({ min: 1, max: 8 }), (stream, capacity) => {
        const t = new TopN(capacity);
        const truth = new Map<string, number>();
        for (const n of stream) {
          t.add(`k${n}`);
          truth.set(`k${n}`, (truth.get(`k${n}`) ?? 0) + 1);
        }
        const tracked = t.top(capacity);
        for (const e of tracked) {
          const real = truth.get(e.item)!;
          expect(e.count).toBeGreaterThanOrEqual(real);
          expect(e.count - e.error).toBeLessThanOrEqual(real);
        }
        for (const [item, n] of truth) if (n > stream.length / capacity) expect(tracked.some((e) => e.item === item)).toBe(true);
      }),
    );
  });
});
