import { describe, expect, test } from "bun:test";
import { sha256Hex } from "../../src/auth/canonical.ts";
import { verifyPayloadSha256 } from "../../src/auth/payload-sha256.ts";
import { drain } from "../support/drain.ts";

function pieces(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(c) {
      if (offset >= bytes.length) return c.close();
      c.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

describe("literal payload SHA-256", () => {
  const body = new Uint8Array(100_000).map((_, i) => i * 7);

  test("a matching body passes through whole", async () => {
    expect(await drain(verifyPayloadSha256(pieces(body, 8192), sha256Hex(body)))).toEqual({ delivered: body.length });
  });

  test("a mismatching body errors with XAmzContentSHA256Mismatch before its last byte is let through", async () => {
    const r = await drain(verifyPayloadSha256(pieces(body, 8192), sha256Hex(body.subarray(1))));
    expect(r.error).toBe("XAmzContentSHA256Mismatch");
    expect(r.delivered).toBeLessThan(body.length);
  });

  test("a body sent in one piece is held back whole until verified", async () => {
    const r = await drain(verifyPayloadSha256(pieces(body, body.length), "0".repeat(64)));
    expect(r).toEqual({ delivered: 0, error: "XAmzContentSHA256Mismatch" });
  });
});
