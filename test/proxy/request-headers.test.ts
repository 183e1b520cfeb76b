import { describe, expect, test } from "bun:test";
import { forwardedRequestHeaders, isAwsChunked } from "../../src/proxy/request-headers.ts";

const SHA = "a".repeat(64);

function forwarded(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(forwardedRequestHeaders(new Headers(headers)));
}

describe("forwardedRequestHeaders", () => {
  test("drops the client's own signature and connection headers", () => {
    const out = forwarded({
      authorization: "AWS4-HMAC-SHA256 Credential=client/...",
      "x-amz-date": "20240101T000000Z",
      "x-amz-security-token": "client-token",
      host: "proxy:3000",
      connection: "keep-alive",
      "keep-alive": "timeout=5",
      "transfer-encoding": "chunked",
      te: "trailers",
      expect: "100-continue",
      "content-length": "10",
      "accept-encoding": "gzip",
      "x-forwarded-for": "10.0.0.1",
      upgrade: "h2c",
    });
    expect(out).toEqual({});
  });

  test("keeps every header S3 reads", () => {
    const kept = {
      range: "bytes=0-9",
      "if-match": '"e"',
      "if-none-match": '"f"',
      "if-modified-since": "Mon, 01 Jan 2024 00:00:00 GMT",
      "if-unmodified-since": "Mon, 01 Jan 2024 00:00:00 GMT",
      "content-type": "text/plain",
      "content-md5": "1B2M2Y8AsgTpgAmY7PhCfg==",
      "content-disposition": "attachment",
      "content-encoding": "gzip",
      "content-language": "en",
      "cache-control": "no-cache",
      expires: "Mon, 01 Jan 2024 00:00:00 GMT",
      "x-amz-meta-anything": "v",
      "x-amz-copy-source": "/b/k",
      "x-amz-checksum-crc32": "AAAAAA==",
      "x-amz-sdk-checksum-algorithm": "CRC32",
      "x-amz-server-side-encryption-customer-algorithm": "AES256",
      "x-amz-acl": "private",
      "x-amz-tagging": "a=b",
    };
    expect(forwarded(kept)).toEqual(kept);
  });

  test("keeps a literal payload hash and drops any other x-amz-content-sha256 value", () => {
    expect(forwarded({ "x-amz-content-sha256": SHA })).toEqual({ "x-amz-content-sha256": SHA });
    expect(forwarded({ "x-amz-content-sha256": "UNSIGNED-PAYLOAD" })).toEqual({});
    expect(forwarded({ "x-amz-content-sha256": "A".repeat(64) })).toEqual({});
  });

  test("for aws-chunked bodies drops the framing headers and only the aws-chunked coding", () => {
    const out = forwarded({
      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      "content-encoding": "aws-chunked, gzip",
      "x-amz-decoded-content-length": "5",
      "x-amz-trailer": "x-amz-checksum-crc32",
      "x-amz-sdk-checksum-algorithm": "CRC32",
      "content-type": "text/plain",
    });
    expect(out).toEqual({ "content-encoding": "gzip", "content-type": "text/plain" });
    expect(forwarded({ "content-encoding": "aws-chunked", "x-amz-decoded-content-length": "5" })).toEqual({});
  });
});

describe("isAwsChunked", () => {
  test("recognises a streaming payload hash or the aws-chunked content coding", () => {
    expect(isAwsChunked(new Headers({ "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" }))).toBe(true);
    expect(isAwsChunked(new Headers({ "content-encoding": "gzip, AWS-Chunked" }))).toBe(true);
    expect(isAwsChunked(new Headers({ "content-encoding": "gzip", "x-amz-content-sha256": SHA }))).toBe(false);
  });
});
