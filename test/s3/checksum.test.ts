import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import type { ChunkEvent } from "../../src/s3/aws-chunked.ts";
import { trailingChecksumVerifier } from "../../src/s3/checksum.ts";
import { S3Error } from "../../src/s3/errors.ts";

const enc = new TextEncoder();

/** Feed "hello " + "world" and a trailer through a verifier; returns the error code or "ok". */
function run(trailer: string, name: string, value: string | undefined): string {
  const observe = trailingChecksumVerifier(trailer)!;
  const events: ChunkEvent[] = [{ type: "data", bytes: enc.encode("hello ") }, { type: "data", bytes: enc.encode("world") }, ...(value === undefined ? [] : [{ type: "trailer" as const, name, value }]), { type: "end" }];
  try {
    for (const e of events) observe(e);
    return "ok";
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
}

// Known answers: CRC32("hello world") = 0x0d4a1185, as S3 and the AWS SDKs send it (base64, big-endian).
const CRC32 = Buffer.from([0x0d, 0x4a, 0x11, 0x85]).toString("base64");
const SHA256 = createHash("sha256").update("hello world").digest("base64");
const SHA1 = createHash("sha1").update("hello world").digest("base64");

describe("trailingChecksumVerifier", () => {
  test("accepts the right CRC32, SHA1 and SHA256 computed across chunks", () => {
    expect(run("x-amz-checksum-crc32", "x-amz-checksum-crc32", CRC32)).toBe("ok");
    expect(run("x-amz-checksum-sha1", "x-amz-checksum-sha1", SHA1)).toBe("ok");
    expect(run("X-Amz-Checksum-SHA256 ", "x-amz-checksum-sha256", SHA256)).toBe("ok");
  });

  test("a wrong checksum is BadDigest", () => {
    expect(run("x-amz-checksum-crc32", "x-amz-checksum-crc32", "AAAAAA==")).toBe("BadDigest");
    expect(run("x-amz-checksum-sha256", "x-amz-checksum-sha256", SHA1)).toBe("BadDigest");
  });

  test("an announced trailer that never comes is IncompleteBody", () => {
    expect(run("x-amz-checksum-crc32", "x-amz-checksum-crc32", undefined)).toBe("IncompleteBody");
    expect(run("x-amz-checksum-crc32", "x-amz-other", CRC32)).toBe("IncompleteBody");
  });

  test("nothing to verify without a trailer, or for algorithms without a native implementation", () => {
    expect(trailingChecksumVerifier(null)).toBeUndefined();
    expect(trailingChecksumVerifier("x-amz-checksum-crc32c")).toBeUndefined();
    expect(trailingChecksumVerifier("x-amz-checksum-crc64nvme")).toBeUndefined();
  });
});
