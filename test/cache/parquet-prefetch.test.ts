import { expect, test } from "bun:test";
import { footerRanges } from "../../src/cache/parquet-prefetch.ts";

function tailWithFooter(footerLength: number, tailLength: number): Uint8Array {
  const tail = new Uint8Array(tailLength);
  new DataView(tail.buffer).setUint32(tailLength - 8, footerLength, true);
  tail.set([0x50, 0x41, 0x52, 0x31], tailLength - 4);
  return tail;
}

test("the first guess is the last 64 KiB, or the whole of a small file", () => {
  expect(footerRanges(1_000_000)).toEqual([{ start: 1_000_000 - 65536, end: 999_999 }]);
  expect(footerRanges(100)).toEqual([{ start: 0, end: 99 }]);
});

test("a footer longer than the guess is fetched whole once its length is read", () => {
  const [, footer] = footerRanges(1_000_000, tailWithFooter(200_000, 65536));
  expect(footer).toEqual({ start: 1_000_000 - 8 - 200_000, end: 999_999 });
});

test("a tail without the PAR1 magic asks for nothing more", () => {
  expect(footerRanges(1_000_000, new Uint8Array(65536))).toHaveLength(1);
});
