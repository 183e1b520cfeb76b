import { describe, expect, test } from "bun:test";
import { chunkSignatureVerifier } from "../../src/auth/chunk-signatures.ts";
import { deriveSigningKey } from "../../src/auth/signing-key.ts";
import { decodeAwsChunkedStream } from "../../src/s3/aws-chunked.ts";
import { frame, signChunks, signTrailer, type ChunkSigning } from "../support/chunked-body.ts";
import { drain } from "../support/drain.ts";

// AWS's chunked-upload example (sigv4-streaming): its seed and chunk signatures.
const AWS: ChunkSigning = {
  signingKey: deriveSigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3"),
  amzDate: "20130524T000000Z",
  scope: "20130524/us-east-1/s3/aws4_request",
  seedSignature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
};
const DATA = [new Uint8Array(65536).fill(97), new Uint8Array(1024).fill(97)];
const SIZE = 66560;

function streamOf(bytes: Uint8Array, pieceSize = 4096): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(c) {
      if (offset >= bytes.length) return c.close();
      c.enqueue(bytes.slice(offset, offset + pieceSize));
      offset += pieceSize;
    },
  });
}

/** Decode and verify a framed body: the bytes it let through, and the error code it ended with. */
function drainDecoded(body: Uint8Array, signedTrailer = false) {
  return drain(decodeAwsChunkedStream(streamOf(body), chunkSignatureVerifier({ ...AWS, signedTrailer })));
}

describe("chunk signature chain", () => {
  test("the test signer reproduces AWS's published chunk signatures", () => {
    expect(signChunks(AWS, DATA).map((c) => c.signature)).toEqual([
      "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
      "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
      "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ]);
  });

  test("an intact signed body decodes completely", async () => {
    expect(await drainDecoded(frame(signChunks(AWS, DATA)))).toEqual({ delivered: SIZE });
  });

  test("a tampered data byte fails with SignatureDoesNotMatch", async () => {
    const chunks = signChunks(AWS, DATA);
    chunks[0]!.data = chunks[0]!.data.slice();
    chunks[0]!.data[100] = 98;
    const r = await drainDecoded(frame(chunks));
    expect(r.error).toBe("SignatureDoesNotMatch");
    expect(r.delivered).toBeLessThan(SIZE);
  });

  test("a tampered last chunk is caught before the last byte is let through", async () => {
    const chunks = signChunks(AWS, DATA);
    chunks[1]!.data = new Uint8Array(1024).fill(98);
    const r = await drainDecoded(frame(chunks));
    expect(r.error).toBe("SignatureDoesNotMatch");
    expect(r.delivered).toBeLessThan(SIZE);
  });

  test("a replayed chunk (the first one sent again in place of the second) fails", async () => {
    const chunks = signChunks(AWS, DATA);
    const r = await drainDecoded(frame([chunks[0]!, chunks[0]!, chunks[2]!]));
    expect(r.error).toBe("SignatureDoesNotMatch");
  });

  test("a dropped chunk breaks the chain at the final chunk", async () => {
    const chunks = signChunks(AWS, DATA);
    expect((await drainDecoded(frame([chunks[0]!, chunks[2]!]))).error).toBe("SignatureDoesNotMatch");
  });

  test("a final empty chunk with a wrong signature fails", async () => {
    const chunks = signChunks(AWS, DATA);
    chunks[2]!.signature = "0".repeat(64);
    const r = await drainDecoded(frame(chunks));
    expect(r.error).toBe("SignatureDoesNotMatch");
    expect(r.delivered).toBeLessThan(SIZE);
  });

  test("a chunk without a signature fails in signed mode", async () => {
    const enc = new TextEncoder();
    const body = Buffer.concat([enc.encode("4\r\nabcd\r\n0\r\n\r\n")]);
    expect((await drainDecoded(body)).error).toBe("SignatureDoesNotMatch");
  });

  test("a truncated body (no final chunk) fails with IncompleteBody", async () => {
    const body = frame(signChunks(AWS, DATA));
    const r = await drainDecoded(body.slice(0, body.length - 90));
    expect(r.error).toBe("IncompleteBody");
    expect(r.delivered).toBeLessThan(SIZE);
  });
});

describe("signed trailer", () => {
  const trailers: Array<[string, string]> = [["x-amz-checksum-crc32c", "sOO8/Q=="]];

  function signedBody(trailerSig?: string, lines = trailers) {
    const chunks = signChunks(AWS, DATA);
    const sig = trailerSig ?? signTrailer(AWS, chunks.at(-1)!.signature, lines);
    return frame(chunks, [...trailers.map(([k, v]) => `${k}:${v}`), `x-amz-trailer-signature:${sig}`]);
  }

  test("a correctly signed trailer is accepted", async () => {
    expect(await drainDecoded(signedBody(), true)).toEqual({ delivered: SIZE });
  });

  test("a trailer whose checksum was changed after signing fails", async () => {
    const sig = signTrailer(AWS, signChunks(AWS, DATA).at(-1)!.signature, [["x-amz-checksum-crc32c", "AAAAAA=="]]);
    const r = await drainDecoded(signedBody(sig), true);
    expect(r.error).toBe("SignatureDoesNotMatch");
    expect(r.delivered).toBeLessThan(SIZE);
  });

  test("a missing trailer signature fails", async () => {
    const body = frame(
      signChunks(AWS, DATA),
      trailers.map(([k, v]) => `${k}:${v}`),
    );
    expect((await drainDecoded(body, true)).error).toBe("SignatureDoesNotMatch");
  });

  test("trailers on a body declared without them fail", async () => {
    expect((await drainDecoded(signedBody(), false)).error).toBe("SignatureDoesNotMatch");
  });
});
