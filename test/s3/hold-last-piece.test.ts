import { expect, test } from "bun:test";
import { holdLastPiece } from "../../src/s3/hold-last-piece.ts";

function source(pieces: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of pieces) c.enqueue(new TextEncoder().encode(p));
      c.close();
    },
  });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<{ got: string[]; error?: unknown }> {
  const got: string[] = [];
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { got };
      got.push(new TextDecoder().decode(value));
    }
  } catch (error) {
    return { got, error };
  }
}

test("every piece passes through in order, each seen by onPiece, empty pieces skipped", async () => {
  const seen: string[] = [];
  const { got, error } = await drain(holdLastPiece(source(["a", "", "b", "c"]), { onPiece: (p) => seen.push(new TextDecoder().decode(p)) }));
  expect(error).toBeUndefined();
  expect(got).toEqual(["a", "b", "c"]);
  expect(seen).toEqual(["a", "b", "c"]);
});

test("a check failing at the end fails the stream before the last piece is delivered", async () => {
  const { got, error } = await drain(
    holdLastPiece(source(["a", "b", "last"]), {
      atEnd: () => {
        throw new Error("bad digest");
      },
    }),
  );
  expect(got).toEqual(["a", "b"]);
  expect(String(error)).toContain("bad digest");
});
