/**
 * Verification of signed aws-chunked bodies (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`)
 * as a ChunkObserver for the aws-chunked decoder. Each chunk signature chains on the one
 * before it, starting from the request's own (seed) signature, so a tampered, reordered,
 * replayed or dropped chunk breaks the chain; the final empty chunk and a signed trailer
 * are checked too.
 */
import { createHash, type Hash } from "node:crypto";
import type { ChunkEvent, ChunkObserver } from "../s3/aws-chunked.ts";
import { S3Error } from "../s3/errors.ts";
import { EMPTY_SHA256, sha256Hex } from "./canonical.ts";
import { hmac, signaturesEqual } from "./signing-key.ts";

export const STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
export const STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
export const STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

export interface ChunkChain {
  signingKey: Uint8Array;
  amzDate: string;
  scope: string;
  /** The request's signature: the first link of the chain. */
  seedSignature: string;
  /** Whether the body ends with trailers and an x-amz-trailer-signature. */
  signedTrailer: boolean;
}

const TRAILER_SIGNATURE = "x-amz-trailer-signature";

function mismatch(): S3Error {
  return new S3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
}

export function chunkSignatureVerifier(chain: ChunkChain): ChunkObserver {
  let previous = chain.seedSignature;
  let claimed: string | undefined;
  let hash: Hash = createHash("sha256");
  const trailerLines: string[] = [];
  let trailerSignature: string | undefined;

  return (event: ChunkEvent) => {
    switch (event.type) {
      case "chunk":
        if (event.signature === undefined) throw mismatch();
        claimed = event.signature;
        hash = createHash("sha256");
        return;
      case "data":
        hash.update(event.bytes);
        return;
      case "chunk-end": {
        const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${chain.amzDate}\n${chain.scope}\n${previous}\n${EMPTY_SHA256}\n${hash.digest("hex")}`;
        const expected = hmac(chain.signingKey, toSign).toString("hex");
        if (claimed === undefined || !signaturesEqual(expected, claimed)) throw mismatch();
        previous = expected;
        claimed = undefined;
        return;
      }
      case "trailer":
        if (event.name === TRAILER_SIGNATURE) trailerSignature = event.value;
        else trailerLines.push(`${event.name}:${event.value}\n`);
        return;
      case "end": {
        if (!chain.signedTrailer) {
          if (trailerLines.length > 0 || trailerSignature !== undefined) throw mismatch();
          return;
        }
        if (trailerSignature === undefined) throw mismatch();
        const toSign = `AWS4-HMAC-SHA256-TRAILER\n${chain.amzDate}\n${chain.scope}\n${previous}\n${sha256Hex(trailerLines.join(""))}`;
        if (!signaturesEqual(hmac(chain.signingKey, toSign).toString("hex"), trailerSignature)) throw mismatch();
        return;
      }
    }
  };
}
