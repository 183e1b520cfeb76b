import { describe, expect, test } from "bun:test";
import { canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUri } from "../../src/auth/canonical.ts";

describe("canonical URI", () => {
  test("clients' different encodings of the same key canonicalise alike", () => {
    expect(canonicalUri("/b/a%20b+c(d)!*'")).toBe("/b/a%20b%2Bc%28d%29%21%2A%27");
    expect(canonicalUri("/b/a%20b%2Bc%28d%29%21%2A%27")).toBe("/b/a%20b%2Bc%28d%29%21%2A%27");
  });

  test("unicode is encoded as upper-case UTF-8 bytes, once", () => {
    expect(canonicalUri("/b/%c3%bc")).toBe("/b/%C3%BC");
    expect(canonicalUri("/b/%25C3")).toBe("/b/%25C3");
  });

  test("a slash sent encoded stays encoded; literal slashes stay literal", () => {
    expect(canonicalUri("/b/dir%2Fkey/x")).toBe("/b/dir%2Fkey/x");
  });

  test("double slashes and unreserved characters are kept as they are", () => {
    expect(canonicalUri("/b/dir//x~y_z-.txt")).toBe("/b/dir//x~y_z-.txt");
  });
});

describe("canonical query", () => {
  test("sorted by name then value, empty values as name=, space as %20", () => {
    expect(
      canonicalQuery(
        [
          ["x", "2"],
          ["tagging", ""],
          ["x", "1"],
          ["sp", "a b"],
          ["A", "+"],
        ],
        false,
      ),
    ).toBe("A=%2B&sp=a%20b&tagging=&x=1&x=2");
  });

  test("a presigned request leaves its own signature out", () => {
    expect(
      canonicalQuery(
        [
          ["X-Amz-Signature", "abc"],
          ["X-Amz-Date", "d"],
        ],
        true,
      ),
    ).toBe("X-Amz-Date=d");
    expect(canonicalQuery([["X-Amz-Signature", "abc"]], false)).toBe("X-Amz-Signature=abc");
  });
});

describe("canonical headers", () => {
  test("values trimmed and inner runs of white space folded", () => {
    const headers = new Headers({ "x-amz-meta-a": "  one   two \t three ", host: "127.0.0.1:3000" });
    expect(canonicalHeaders(headers, ["host", "x-amz-meta-a"])).toBe("host:127.0.0.1:3000\nx-amz-meta-a:one two three\n");
  });

  test("the whole canonical request joins the six parts with newlines", () => {
    const text = canonicalRequest({ method: "GET", rawPath: "/b/k", query: [], headers: new Headers({ host: "h" }), signedHeaders: ["host"], payloadHash: "UNSIGNED-PAYLOAD", presigned: false });
    expect(text).toBe("GET\n/b/k\n\nhost:h\n\nhost\nUNSIGNED-PAYLOAD");
  });
});
