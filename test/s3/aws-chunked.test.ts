import { describe, expect, test } from "bun:test";
import { AwsChunkedDecoder, decodeAwsChunkedStream, decodedLengthCheck, type ChunkEvent } from "../../src/s3/aws-chunked.ts";
import { S3Error } from "../../src/s3/errors.ts";
import { randomBytes } from "../support/clients.ts";

const enc = new TextEncoder();
const SIG = (n: number) => n.toString(16).padStart(64, "a");

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/** STREAMING-AWS4-HMAC-SHA256-PAYLOAD framing: every chunk carries a chunk-signature. */
function signedBody(data: Uint8Array, chunkSize: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let i = 0;
  for (let at = 0; at < data.length; at += chunkSize, i++) {
    const chunk = data.subarray(at, at + chunkSize);
    parts.push(enc.encode(`${chunk.length.toString(16)};chunk-signature=${SIG(i)}\r\n`), chunk, enc.encode("\r\n"));
  }
  parts.push(enc.encode(`0;chunk-signature=${SIG(i)}\r\n\r\n`));
  return concat(parts);
}

/** STREAMING-UNSIGNED-PAYLOAD-TRAILER framing: bare sizes, then trailer lines. */
function unsignedTrailerBody(data: Uint8Array, chunkSize: number, trailers: string[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += chunkSize) {
    const chunk = data.subarray(at, at + chunkSize);
    parts.push(enc.encode(`${chunk.length.toString(16)}\r\n`), chunk, enc.encode("\r\n"));
  }
  parts.push(enc.encode(`0\r\n${trailers.map((t) => t + "\r\n").join("")}\r\n`));
  return concat(parts);
}

function decodeAll(pieces: Uint8Array[]): { data: Uint8Array; events: ChunkEvent[] } {
  const d = new AwsChunkedDecoder();
  const events = [...pieces.flatMap((p) => d.push(p)), ...d.end()];
  const data = concat(events.flatMap((e) => (e.type === "data" ? [e.bytes.slice()] : [])));
  return { data, events: events.filter((e) => e.type !== "data") };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
  return "no error";
}

const data = randomBytes(300, 3);

describe("AwsChunkedDecoder", () => {
  test("decodes signed chunks to the data and reports each chunk's signature", () => {
    const { data: out, events } = decodeAll([signedBody(data, 128)]);
    expect(out).toEqual(data);
    expect(events.filter((e) => e.type === "chunk")).toEqual([
      { type: "chunk", size: 128, signature: SIG(0) },
      { type: "chunk", size: 128, signature: SIG(1) },
      { type: "chunk", size: 44, signature: SIG(2) },
      { type: "chunk", size: 0, signature: SIG(3) },
    ]);
    expect(events.at(-1)).toEqual({ type: "end" });
  });

  test("decodes unsigned chunks and reports the trailers", () => {
    const body = unsignedTrailerBody(data, 100, ["x-amz-checksum-crc32:AAAAAA==", "X-Other: v "]);
    const { data: out, events } = decodeAll([body]);
    expect(out).toEqual(data);
    expect(events.filter((e) => e.type === "trailer")).toEqual([
      { type: "trailer", name: "x-amz-checksum-crc32", value: "AAAAAA==" },
      { type: "trailer", name: "x-other", value: "v" },
    ]);
  });

  test("an empty object is a lone final chunk", () => {
    expect(decodeAll([unsignedTrailerBody(new Uint8Array(0), 10, [])]).data.length).toBe(0);
    expect(decodeAll([signedBody(new Uint8Array(0), 10)]).data.length).toBe(0);
  });

  test("accepts upper-case hex sizes", () => {
    const body = concat([enc.encode("A\r\n"), data.subarray(0, 10), enc.encode("\r\n0\r\n\r\n")]);
    expect(decodeAll([body]).data).toEqual(data.subarray(0, 10));
  });

  for (const [name, body] of [
    ["signed", signedBody(data, 97)],
    ["unsigned-trailer", unsignedTrailerBody(data, 97, ["x-amz-checksum-crc32:AAAAAA=="])],
  ] as const) {
    test(`${name} framing decodes the same when split at every byte boundary`, () => {
      const whole = decodeAll([body]);
      for (let cut = 0; cut <= body.length; cut++) {
        const split = decodeAll([body.subarray(0, cut), body.subarray(cut)]);
        expect(split.data).toEqual(data);
        expect(split.events).toEqual(whole.events);
      }
    });

    test(`${name} framing decodes the same fed one byte at a time`, () => {
      const pieces = Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1));
      expect(decodeAll(pieces).data).toEqual(data);
    });

    test(`${name} framing cut short anywhere is IncompleteBody`, () => {
      for (let cut = 0; cut < body.length; cut++) {
        expect(codeOf(() => decodeAll([body.subarray(0, cut)]))).toBe("IncompleteBody");
      }
    });
  }

  test("a bad chunk header is IncompleteBody", () => {
    for (const header of ["zz\r\n", "10;chunk-signature=short\r\n", "-1\r\n", "123456789\r\n", "\r\n", "10 \r\n"]) {
      expect([header, codeOf(() => new AwsChunkedDecoder().push(enc.encode(header)))]).toEqual([header, "IncompleteBody"]);
    }
  });

  test("a header line ended by a bare LF is rejected", () => {
    expect(codeOf(() => new AwsChunkedDecoder().push(enc.encode("10\n")))).toBe("IncompleteBody");
  });

  test("chunk data longer than its declared size is rejected", () => {
    const body = concat([enc.encode("4\r\n"), enc.encode("abcdefg\r\n0\r\n\r\n")]);
    expect(codeOf(() => decodeAll([body]))).toBe("IncompleteBody");
  });

  test("bytes after the final chunk are rejected", () => {
    const body = concat([unsignedTrailerBody(data, 100, []), enc.encode("extra")]);
    expect(codeOf(() => decodeAll([body]))).toBe("IncompleteBody");
  });

  test("an endless header line is rejected before it grows unbounded", () => {
    expect(codeOf(() => new AwsChunkedDecoder().push(new Uint8Array(10_000).fill(0x61)))).toBe("IncompleteBody");
  });

  test("a trailer line without a name is rejected", () => {
    expect(codeOf(() => decodeAll([enc.encode("0\r\n:value\r\n\r\n")]))).toBe("IncompleteBody");
  });
});

function streamOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of pieces) c.enqueue(p);
      c.close();
    },
  });
}

describe("decodeAwsChunkedStream", () => {
  test("streams the plain bytes and shows every framing event to the observer", async () => {
    const body = unsignedTrailerBody(data, 64, ["x-amz-checksum-crc32:AAAAAA=="]);
    const seen: string[] = [];
    const out = decodeAwsChunkedStream(streamOf([body.subarray(0, 70), body.subarray(70, 71), body.subarray(71)]), (e) => {
      seen.push(e.type);
    });
    expect(await new Response(out).bytes()).toEqual(data);
    expect(seen.filter((t) => t === "chunk")).toHaveLength(6);
    expect(seen.slice(-2)).toEqual(["trailer", "end"]);
  });

  test("a truncated body errors the stream instead of ending it cleanly", async () => {
    const body = signedBody(data, 64);
    const out = decodeAwsChunkedStream(streamOf([body.subarray(0, body.length - 10)]));
    await expect(new Response(out).bytes()).rejects.toThrow("terminated unexpectedly");
  });

  test("an observer that throws errors the stream", async () => {
    const out = decodeAwsChunkedStream(streamOf([signedBody(data, 64)]), (e) => {
      if (e.type === "chunk" && e.size === 0) throw new S3Error("SignatureDoesNotMatch", "bad chunk");
    });
    await expect(new Response(out).bytes()).rejects.toThrow("bad chunk");
  });
});

describe("decodedLengthCheck", () => {
  const data = (n: number): ChunkEvent => ({ type: "data", bytes: new Uint8Array(n) });

  test("passes exactly the declared number of bytes", () => {
    const check = decodedLengthCheck(10);
    expect(
      codeOf(() => {
        for (const e of [data(4), data(6), { type: "end" } as ChunkEvent]) check(e);
      }),
    ).toBe("no error");
  });

  test("more bytes than declared is rejected as soon as they arrive", () => {
    const check = decodedLengthCheck(10);
    check(data(10));
    expect(codeOf(() => check(data(1)))).toBe("InvalidRequest");
  });

  test("fewer bytes than declared is IncompleteBody at the end", () => {
    const check = decodedLengthCheck(10);
    check(data(9));
    expect(codeOf(() => check({ type: "end" }))).toBe("IncompleteBody");
  });
});
