import { expect, test } from "bun:test";
import { CollectionPacer } from "../../src/cache/collection-pacer.ts";

test("a collection is due each time another `every` bytes were dropped, and never while nothing is", () => {
  const pacer = new CollectionPacer(100);
  expect(pacer.due(0)).toBe(false);
  expect(pacer.due(99)).toBe(false);
  expect(pacer.due(100)).toBe(true);
  expect(pacer.due(150)).toBe(false);
  expect(pacer.due(199)).toBe(false);
  expect(pacer.due(450)).toBe(true);
  // Counted from the last collection, not rounded to multiples: 450 + 100.
  expect(pacer.due(549)).toBe(false);
  expect(pacer.due(550)).toBe(true);
  expect(pacer.due(550)).toBe(false);
});
