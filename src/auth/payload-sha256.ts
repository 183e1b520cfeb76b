/**
 * Verify a body against the literal SHA-256 its signature covers, while it streams. The
 * last piece is held back until the whole body has been hashed: on a mismatch the stream
 * errors before the backend has received every byte, so the upstream request aborts and
 * the backend never completes the write.
 */
import { createHash } from "node:crypto";
import { S3Error } from "../s3/errors.ts";

export function contentSha256Mismatch(): S3Error {
  return new S3Error("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

export function verifyPayloadSha256(body: ReadableStream<Uint8Array>, expectedHex: string): ReadableStream<Uint8Array> {
  const hash = createHash("sha256");
  const reader = body.getReader();
  let held: Uint8Array | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          if (hash.digest("hex") !== expectedHex) throw contentSha256Mismatch();
          if (held) controller.enqueue(held);
          controller.close();
          return;
        }
        if (value.length === 0) continue;
        hash.update(value);
        const out = held;
        held = value;
        if (out) {
          controller.enqueue(out);
          return;
        }
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
