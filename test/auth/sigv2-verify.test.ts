/** SigV2 verification against the known answers of AWS's own SigV2 examples (the S3 developer guide's johnsmith bucket). */
import { describe, expect, test } from "bun:test";
import { createAuthenticator, type KnownKey } from "../../src/auth/authenticate.ts";
import { sigV2ResourcePath, sigV2StringToSign } from "../../src/auth/sigv2-verify.ts";
import { S3Error } from "../../src/s3/errors.ts";
import { parseOperation } from "../../src/s3/operation.ts";

const AWS_EXAMPLE = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const KEYS = new Map<string, KnownKey>([
  [AWS_EXAMPLE.accessKeyId, { secretAccessKey: AWS_EXAMPLE.secretAccessKey }],
  ["AKIDLIMITED", { secretAccessKey: AWS_EXAMPLE.secretAccessKey, buckets: new Set(["other"]) }],
]);
const EXAMPLE_TIME = Date.parse("Tue, 27 Mar 2007 19:36:42 +0000");

async function verdict(url: string, headers: Record<string, string>, now = EXAMPLE_TIME): Promise<string> {
  const auth = createAuthenticator({ mode: "sigv4", regions: ["us-east-1"], lookupKey: async (id) => KEYS.get(id), now: () => now });
  const req = new Request(url, { headers });
  try {
    await auth(parseOperation(req.method, new URL(req.url), req.headers, { domains: ["s3.amazonaws.com"] }), req);
    return "ok";
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
}

describe("SigV2 header auth", () => {
  const example = { host: "johnsmith.s3.amazonaws.com", date: "Tue, 27 Mar 2007 19:36:42 +0000", authorization: "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=" };
  const url = "http://127.0.0.1:3000/photos/puppy.jpg";

  test("AWS's GET example verifies (virtual-hosted: the bucket from the host is in the resource)", async () => {
    expect(await verdict(url, example)).toBe("ok");
  });

  test("a changed signature, an added x-amz-* header, a key limited elsewhere, a skewed clock, a malformed header: refused", async () => {
    expect(await verdict(url, { ...example, authorization: example.authorization.replace("bWq2", "bWq3") })).toBe("SignatureDoesNotMatch");
    expect(await verdict(url, { ...example, "x-amz-copy-source": "johnsmith/other.jpg" })).toBe("SignatureDoesNotMatch");
    expect(await verdict(url, { ...example, authorization: example.authorization.replace(AWS_EXAMPLE.accessKeyId, "AKIDLIMITED") })).toBe("AccessDenied");
    expect(await verdict(url, { ...example, authorization: example.authorization.replace(AWS_EXAMPLE.accessKeyId, "AKIDNOBODY") })).toBe("InvalidAccessKeyId");
    expect(await verdict(url, example, EXAMPLE_TIME + 16 * 60_000)).toBe("RequestTimeTooSkewed");
    expect(await verdict(url, { ...example, authorization: "AWS nocolon" })).toBe("InvalidArgument");
    expect(await verdict(url, { ...example, authorization: `${example.authorization}, ${example.authorization}` })).toBe("InvalidArgument");
  });
});

describe("SigV2 presigned URLs", () => {
  const url = (expires: string, signature: string) => `http://127.0.0.1:3000/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=${expires}&Signature=${encodeURIComponent(signature)}`;
  const host = { host: "johnsmith.s3.amazonaws.com" };

  test("AWS's query-string example verifies before its expiry, and is AccessDenied after", async () => {
    expect(await verdict(url("1175139620", "NpgCjnDzrM+WFzoENXmpNDUsSn8="), host, 1175139620_000)).toBe("ok");
    expect(await verdict(url("1175139620", "NpgCjnDzrM+WFzoENXmpNDUsSn8="), host, 1175139621_000)).toBe("AccessDenied");
  });

  test("a moved expiry, a missing parameter, or presign parameters beside an Authorization header: refused", async () => {
    expect(await verdict(url("1175139999", "NpgCjnDzrM+WFzoENXmpNDUsSn8="), host, 1175139620_000)).toBe("SignatureDoesNotMatch");
    expect(await verdict("http://127.0.0.1:3000/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620", host, 1175139620_000)).toBe("AccessDenied");
    expect(await verdict(url("1175139620", "NpgCjnDzrM+WFzoENXmpNDUsSn8="), { ...host, authorization: "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=" }, 1175139620_000)).toBe("InvalidArgument");
  });
});

describe("the string to sign", () => {
  test("x-amz-* headers sorted and trimmed, x-amz-date empties the Date line, subresources sorted with decoded values, other parameters left out", () => {
    const headers = new Headers({ "content-type": "text/plain", "x-amz-meta-b": " two ", "x-amz-date": "Tue, 27 Mar 2007 19:36:42 +0000", "x-amz-acl": "private", date: "ignored" });
    const query = [
      ["uploadId", "a/b"],
      ["prefix", "p"],
      ["acl", ""],
    ] as const;
    const claim = { presigned: false, accessKeyId: "AK", signature: "", time: 0 };
    expect(sigV2StringToSign({ method: "PUT", resourcePath: "/b/k", query, headers }, claim)).toBe("PUT\n\ntext/plain\n\nx-amz-acl:private\nx-amz-date:Tue, 27 Mar 2007 19:36:42 +0000\nx-amz-meta-b:two\n/b/k?acl&uploadId=a/b");
  });

  test("the resource names the bucket with its slash, for path-style and virtual-hosted requests alike", () => {
    expect(sigV2ResourcePath({ bucket: "b", style: "path" }, "/b")).toBe("/b/");
    expect(sigV2ResourcePath({ bucket: "b", key: "k%20x", style: "path" }, "/b/k%20x")).toBe("/b/k%20x");
    expect(sigV2ResourcePath({ bucket: "b", style: "virtual" }, "/")).toBe("/b/");
    expect(sigV2ResourcePath({ bucket: "b", key: "k", style: "virtual" }, "/k")).toBe("/b/k");
    expect(sigV2ResourcePath({ style: "path" }, "/")).toBe("/");
  });
});
