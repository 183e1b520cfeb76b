import { describe, expect, test } from "bun:test";
import { formatCopySource, parseCopySource } from "../../src/s3/copy-source.ts";
import { S3Error } from "../../src/s3/errors.ts";

function codeOf(header: string): string {
  try {
    parseCopySource(header);
    return "ok";
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
}

describe("x-amz-copy-source", () => {
  test("is read with or without a leading slash, decoded once, with a version", () => {
    expect(parseCopySource("/b/k")).toEqual({ bucket: "b", key: "k" });
    expect(parseCopySource("b/k%20x/%E6%97%A5?versionId=3%2B")).toEqual({ bucket: "b", key: "k x/日", versionId: "3+" });
    expect(parseCopySource("b/a%2Fb")).toEqual({ bucket: "b", key: "a/b" });
  });

  test("is forwarded in one canonical spelling, which parses back to the same source", () => {
    for (const header of ["/b/k", "b/with space+plus%25.txt", "b/a//b/", "b/k?versionId=x%2By", "b/%28paren%29!*'"]) {
      const parsed = parseCopySource(header);
      expect(parseCopySource(formatCopySource(parsed))).toEqual(parsed);
    }
    expect(formatCopySource({ bucket: "b", key: "a b/c+d" })).toBe("b/a%20b/c%2Bd");
  });

  test("dot segments, however encoded, are refused like in a request path", () => {
    for (const h of ["b/../a/secret.txt", "b/%2E%2E/a/secret.txt", "b/%2e%2e%2fa/secret.txt", "b/./../a/x", "b/x/../../a/x", "b/.", "b/x/..", "/b/.."]) expect([h, codeOf(h)]).toEqual([h, "InvalidRequest"]);
  });

  test("a source without a bucket and a key, a bad bucket, bad encoding or other parameters is an InvalidArgument or the bucket's error", () => {
    expect(codeOf("nokey")).toBe("InvalidArgument");
    expect(codeOf("b/")).toBe("InvalidArgument");
    expect(codeOf("/k")).toBe("InvalidArgument");
    expect(parseCopySource("b%2Fk")).toEqual({ bucket: "b", key: "k" });
    expect(codeOf("b/%zz")).toBe("InvalidArgument");
    expect(codeOf("b/k?versionId=")).toBe("InvalidArgument");
    expect(codeOf("b/k?acl")).toBe("InvalidArgument");
    expect(codeOf("../k")).toBe("InvalidBucketName");
    expect(codeOf("b!/k")).toBe("InvalidBucketName");
    expect(codeOf("b/a%00b")).toBe("InvalidURI");
  });
});
