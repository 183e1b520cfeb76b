import { expect, test } from "bun:test";
import { bodySlice } from "../../src/cache/body-slice.ts";

const chunks = [Uint8Array.of(0, 1, 2), Uint8Array.of(3, 4), Uint8Array.of(5, 6, 7, 8)];

async function bytes(body: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const c of body) out.push(...c);
  return out;
}

test("a slice keeps exactly its bytes, across chunk boundaries and at either end", async () => {
  expect(await bytes(bodySlice(chunks, 0))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  expect(await bytes(bodySlice(chunks, 2, 6))).toEqual([2, 3, 4, 5]);
  expect(await bytes(bodySlice(chunks, 3, 5))).toEqual([3, 4]);
  expect(await bytes(bodySlice(chunks, 5))).toEqual([5, 6, 7, 8]);
  expect(await bytes(bodySlice(chunks, 8, 100))).toEqual([8]);
  expect(await bytes(bodySlice(chunks, 9))).toEqual([]);
  expect(await bytes(bodySlice(chunks, 4, 4))).toEqual([]);
});

test("a stream is cancelled once the slice's end has passed, and read no further", async () => {
  let pulls = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        pulls++;
        c.enqueue(new Uint8Array(10).fill(pulls));
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  expect(await bytes(bodySlice(stream, 5, 25))).toEqual([...Array(5).fill(1), ...Array(10).fill(2), ...Array(5).fill(3)]);
  expect(cancelled).toBe(true);
  expect(pulls).toBe(3);
});
