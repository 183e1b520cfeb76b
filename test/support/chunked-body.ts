/**
 * Build signed aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) following
 * AWS's published algorithm, for tests that need bodies the real clients here do not send
 * (signed trailers) or deliberately broken ones. Checked against AWS's own example first.
 */
import { createHash, createHmac } from "node:crypto";

const EMPTY = createHash("sha256").update("").digest("hex");
const hex = (d: string | Uint8Array) => createHash("sha256").update(d).digest("hex");

export interface ChunkSigning {
  signingKey: Uint8Array;
  amzDate: string;
  scope: string;
  seedSignature: string;
}

export interface SignedChunk {
  data: Uint8Array;
  signature: string;
}

/** Signatures for each chunk (the final empty one included), chained from the seed. */
export function signChunks(s: ChunkSigning, chunks: Uint8Array[]): SignedChunk[] {
  let previous = s.seedSignature;
  return [...chunks, new Uint8Array(0)].map((data) => {
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${s.amzDate}\n${s.scope}\n${previous}\n${EMPTY}\n${hex(data)}`;
    previous = createHmac("sha256", s.signingKey).update(toSign).digest("hex");
    return { data, signature: previous };
  });
}

export function signTrailer(s: ChunkSigning, previous: string, trailers: Array<[string, string]>): string {
  const canonical = trailers.map(([k, v]) => `${k}:${v}\n`).join("");
  const toSign = `AWS4-HMAC-SHA256-TRAILER\n${s.amzDate}\n${s.scope}\n${previous}\n${hex(canonical)}`;
  return createHmac("sha256", s.signingKey).update(toSign).digest("hex");
}

/** Frame signed chunks (and optional trailer lines) as the bytes on the wire. */
export function frame(chunks: SignedChunk[], trailerLines: string[] = []): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const c of chunks) {
    parts.push(enc.encode(`${c.data.length.toString(16)};chunk-signature=${c.signature}\r\n`), c.data);
    if (c.data.length > 0) parts.push(enc.encode("\r\n"));
  }
  parts.push(enc.encode(trailerLines.map((l) => `${l}\r\n`).join("") + "\r\n"));
  return Buffer.concat(parts);
}
