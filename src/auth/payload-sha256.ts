/**
 * Verify a body against the literal SHA-256 its signature covers, while it streams. The
 * last piece is held back until the whole body has been hashed: on a mismatch the stream
 * errors before the backend has received every byte, so the upstream request aborts and
 * the backend never completes the write.
 */
import { createHash } from "node:crypto";
import { holdLastPiece } from "../s3/hold-last-piece.ts";
import { S3Error } from "../s3/errors.ts";

export function contentSha256Mismatch(): S3Error {
  return new S3Error("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

export function verifyPayloadSha256(body: ReadableStream<Uint8Array>, expectedHex: string): ReadableStream<Uint8Array> {
  const hash = createHash("sha256");
  return holdLastPiece(body, {
    onPiece: (piece) => hash.update(piece),
    atEnd: () => {
      if (hash.digest("hex") !== expectedHex) throw contentSha256Mismatch();
    },
  });
}
