import { describe, expect, test } from "bun:test";
import { S3Error } from "../../src/s3/errors.ts";
import { hasQuery, parseOperation, parseQuery, queryValue, type OperationKind } from "../../src/s3/operation.ts";

function parse(method: string, target: string, headers: Record<string, string> = {}, domains: string[] = []) {
  const url = new URL(target, "http://127.0.0.1:3000");
  return parseOperation(method, url, new Headers({ host: url.host, ...headers }), { domains });
}

function s3ErrorOf(fn: () => unknown): S3Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  throw new Error("expected an S3Error");
}

describe("path-style requests", () => {
  test("split into bucket and decoded key", () => {
    const op = parse("GET", "/bucket/dir/with%20space/%E6%97%A5+plus%25.bin");
    expect(op).toMatchObject({ bucket: "bucket", key: "dir/with space/日+plus%.bin", style: "path", kind: "GetObject" });
  });

  test("a GetObject carries its Range header parsed; other operations carry none", () => {
    expect(parse("GET", "/bucket/key", { range: "bytes=5-9" }).range).toEqual({ kind: "bounded", start: 5, end: 9 });
    expect(parse("GET", "/bucket/key", { range: "bytes=-3" }).range).toEqual({ kind: "suffix", length: 3 });
    expect(parse("GET", "/bucket/key", { range: "bytes=0-1,4-5" }).range).toBe("multi");
    expect(parse("GET", "/bucket/key").range).toBeUndefined();
    expect(parse("HEAD", "/bucket/key", { range: "bytes=5-9" }).range).toBeUndefined();
    expect(parse("GET", "/bucket/", { range: "bytes=5-9" }).range).toBeUndefined();
  });

  test("keep a key's empty segments and trailing slash", () => {
    expect(parse("GET", "/bucket/a//b/").key).toBe("a//b/");
  });

  test("a bucket with a trailing slash has no key", () => {
    expect(parse("GET", "/bucket/")).toMatchObject({ bucket: "bucket", key: undefined, kind: "ListObjects" });
  });

  test("the root is the service", () => {
    expect(parse("GET", "/")).toMatchObject({ bucket: undefined, key: undefined, kind: "ListBuckets" });
  });

  test("a path that starts with an empty segment names no bucket: refused, never read as the service", () => {
    for (const p of ["//bucket-a/secret.txt", "//", "///x"]) {
      const url = new URL(`http://127.0.0.1:3000${p}`);
      expect([p, s3ErrorOf(() => parseOperation("GET", url, new Headers({ host: url.host }), { domains: [] })).code]).toEqual([p, "InvalidURI"]);
    }
  });

  test("x-amz-copy-source is parsed with the operation, and checked like the path", () => {
    expect(parse("PUT", "/b/k", { "x-amz-copy-source": "/src/a%20b?versionId=7" }).copySource).toEqual({ bucket: "src", key: "a b", versionId: "7" });
    expect(s3ErrorOf(() => parse("PUT", "/b/k?partNumber=1&uploadId=u", { "x-amz-copy-source": "b/../a/x" })).code).toBe("InvalidRequest");
  });
});

describe("virtual-hosted-style requests", () => {
  test("take the bucket from the host under a configured domain", () => {
    const op = parse("GET", "/a/key.txt", { host: "my-bucket.s3.local:3000" }, ["s3.local"]);
    expect(op).toMatchObject({ bucket: "my-bucket", key: "a/key.txt", style: "virtual", kind: "GetObject" });
  });

  test("a bucket with dots, and the bucket root", () => {
    expect(parse("GET", "/?list-type=2", { host: "logs.example.com.proxy.test" }, ["proxy.test"])).toMatchObject({ bucket: "logs.example.com", key: undefined, kind: "ListObjectsV2" });
  });

  test("the domain itself, or a host under no configured domain, is path-style", () => {
    expect(parse("GET", "/b/k", { host: "s3.local" }, ["s3.local"])).toMatchObject({ bucket: "b", key: "k", style: "path" });
    expect(parse("GET", "/b/k", { host: "x.other.test" }, ["s3.local"])).toMatchObject({ bucket: "b", key: "k", style: "path" });
  });

  test("are matched case-insensitively against the domain", () => {
    expect(parse("GET", "/k", { host: "Bucket.S3.Local" }, ["s3.local"])).toMatchObject({ bucket: "bucket", key: "k" });
  });
});

describe("operation kinds", () => {
  const cases: Array<[OperationKind, string, string, Record<string, string>?]> = [
    ["ListBuckets", "GET", "/"],
    ["Unknown", "PUT", "/"],
    ["ListObjects", "GET", "/b?prefix=a&delimiter=%2F&max-keys=10"],
    ["ListObjectsV2", "GET", "/b?list-type=2&prefix=a&continuation-token=x"],
    ["ListObjects", "GET", "/b?prefix=a&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"],
    ["ListObjects", "GET", "/b?prefix=a&AWSAccessKeyId=AK&Signature=c2ln&Expires=1700000000"],
    ["BucketSubresource", "GET", "/b?versioning"],
    ["BucketSubresource", "GET", "/b?uploads"],
    ["HeadBucket", "HEAD", "/b"],
    ["CreateBucket", "PUT", "/b"],
    ["BucketSubresource", "PUT", "/b?tagging"],
    ["DeleteBucket", "DELETE", "/b"],
    ["BucketSubresource", "DELETE", "/b?cors"],
    ["DeleteObjects", "POST", "/b?delete"],
    ["BucketSubresource", "POST", "/b?other"],
    ["GetObject", "GET", "/b/k"],
    ["GetObject", "GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"],
    ["HeadObject", "HEAD", "/b/k"],
    ["PutObject", "PUT", "/b/k"],
    ["CopyObject", "PUT", "/b/k", { "x-amz-copy-source": "/b/src" }],
    ["DeleteObject", "DELETE", "/b/k"],
    ["CreateMultipartUpload", "POST", "/b/k?uploads"],
    ["UploadPart", "PUT", "/b/k?partNumber=1&uploadId=u"],
    ["UploadPartCopy", "PUT", "/b/k?partNumber=2&uploadId=u", { "x-amz-copy-source": "/b/src" }],
    ["CompleteMultipartUpload", "POST", "/b/k?uploadId=u"],
    ["AbortMultipartUpload", "DELETE", "/b/k?uploadId=u"],
    ["ListParts", "GET", "/b/k?uploadId=u"],
    ["ObjectSubresource", "GET", "/b/k?tagging"],
    ["ObjectSubresource", "PUT", "/b/k?acl"],
    ["ObjectSubresource", "DELETE", "/b/k?tagging"],
    ["ObjectSubresource", "POST", "/b/k?restore"],
    ["ObjectSubresource", "POST", "/b/k?select&select-type=2"],
    ["Unknown", "OPTIONS", "/b/k"],
  ];
  test("methods S3 does not answer are 405 MethodNotAllowed", () => {
    for (const method of ["PATCH", "CONNECT", "TRACE", "FOO"]) {
      expect(() => parse(method, "/b/k")).toThrow(expect.objectContaining({ code: "MethodNotAllowed", status: 405 }));
    }
  });
  for (const [kind, method, target, headers] of cases) {
    test(`${method} ${target}${headers ? " + copy source" : ""} is ${kind}`, () => {
      expect(parse(method, target, headers).kind).toBe(kind);
    });
  }
});

describe("query strings", () => {
  test("keep received order, repeated names and bare names as empty values", () => {
    expect(parseQuery("?b=2&a&b=1&c=")).toEqual([
      ["b", "2"],
      ["a", ""],
      ["b", "1"],
      ["c", ""],
    ]);
  });

  test("decode %XX and read + as a space", () => {
    expect(parseQuery("?prefix=a+b%2Bc%2Fd")).toEqual([["prefix", "a b+c/d"]]);
  });

  test("skip empty pieces", () => {
    expect(parseQuery("?&a=1&&")).toEqual([["a", "1"]]);
    expect(parseQuery("")).toEqual([]);
    expect(parseQuery("?")).toEqual([]);
  });

  test("queryValue and hasQuery find the first matching name", () => {
    const op = parse("GET", "/b/k?x=1&x=2&flag");
    expect(queryValue(op, "x")).toBe("1");
    expect(queryValue(op, "y")).toBeUndefined();
    expect(hasQuery(op, "flag")).toBe(true);
    expect(hasQuery(op, "nope")).toBe(false);
  });
});

describe("malformed requests", () => {
  test("invalid percent-encoding in the path is InvalidURI (400)", () => {
    const e = s3ErrorOf(() => parse("GET", "/b/bad%zzkey"));
    expect([e.code, e.status]).toEqual(["InvalidURI", 400]);
    expect(s3ErrorOf(() => parse("GET", "/b/%FF")).code).toBe("InvalidURI");
  });

  test("invalid percent-encoding in the query is InvalidURI", () => {
    expect(s3ErrorOf(() => parse("GET", "/b?prefix=%E6%97")).code).toBe("InvalidURI");
  });

  test("a NUL byte in the key is InvalidURI", () => {
    expect(s3ErrorOf(() => parse("GET", "/b/a%00b")).code).toBe("InvalidURI");
  });

  test("keys with . or .. segments are rejected with InvalidRequest", () => {
    // Built by hand: new URL() would normalise these segments away before parsing.
    for (const path of ["/b/%2E/k", "/b/a/%2E%2E/k", "/b/k/..", "/b/."]) {
      const url = new URL("http://127.0.0.1:3000/");
      Object.defineProperty(url, "pathname", { value: path });
      const e = s3ErrorOf(() => parseOperation("GET", url, new Headers({ host: url.host }), { domains: [] }));
      expect(e.code).toBe("InvalidRequest");
    }
  });

  test("dots inside a segment are ordinary key characters", () => {
    expect(parse("GET", "/b/a..b/.hidden/...").key).toBe("a..b/.hidden/...");
  });

  test("a bucket name with characters no bucket can have is InvalidBucketName", () => {
    expect(s3ErrorOf(() => parse("GET", "/bad%20bucket/k")).code).toBe("InvalidBucketName");
  });

  test("a key longer than any S3 key is InvalidURI", () => {
    expect(s3ErrorOf(() => parse("GET", "/b/" + "k".repeat(5000))).code).toBe("InvalidURI");
  });
});
