import { describe, expect, test } from "bun:test";
import { createAuthenticator, type KnownKey } from "../../src/auth/authenticate.ts";
import { canonicalRequest, type CanonicalInput } from "../../src/auth/canonical.ts";
import { printableCanonicalRequest } from "../../src/auth/debug-dump.ts";
import { parseOperation } from "../../src/s3/operation.ts";
import { sign } from "../support/sign.ts";

/** Values no debug line may ever contain, each in the header or parameter that carries it. */
const SECRETS: Record<string, string> = {
  authorization: "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + "ab".repeat(32),
  "x-amz-security-token": "token-value-one, token-value-one",
  "x-amz-server-side-encryption-customer-key": "c3NlLWMta2V5LXRoaXJ0eS10d28tYnl0ZXMtbG9uZyE=",
  "x-amz-server-side-encryption-customer-key-md5": "sse-c-key-md5-value",
  "x-amz-copy-source-server-side-encryption-customer-key": "Y29weS1zb3VyY2Uta2V5LXRoaXJ0eS10d28tYnl0ZXM=",
  "x-amz-copy-source-server-side-encryption-customer-key-md5": "copy-md5-value",
  "x-amz-meta-password": "hunter2-metadata",
  cookie: "session=cookie-value",
  "proxy-authorization": "Basic cHJveHktc2VjcmV0",
  "x-some-future-secret": "future-secret-value",
};

describe("the debug dump of a canonical request", () => {
  test("prints no header value outside the allow-list, whichever headers are signed, listed twice or sent twice", () => {
    const signed = ["host", "range", ...Object.keys(SECRETS), "x-amz-security-token"].sort();
    const input: CanonicalInput = {
      method: "PUT",
      rawPath: "/bucket/key",
      query: [
        ["X-Amz-Security-Token", "query-token-value"],
        ["X-Amz-Credential", "AKID/20261125/us-east-1/s3/aws4_request"],
        ["Signature", "v2-signature-value"],
        ["versionId", "3"],
      ],
      headers: new Headers({ host: "127.0.0.1:3000", range: "bytes=0-9", ...SECRETS }),
      signedHeaders: signed,
      payloadHash: "UNSIGNED-PAYLOAD",
      presigned: true,
    };
    const dump = printableCanonicalRequest(input);
    for (const secret of [...Object.values(SECRETS), "token-value-one", "query-token-value", "v2-signature-value", "ab".repeat(32)]) expect(dump).not.toContain(secret);
    for (const name of Object.keys(SECRETS)) expect(dump).toContain(`${name}:<redacted>\n`);
    expect(dump).toContain("X-Amz-Security-Token=<redacted>");
    // What helps debugging stays: the path, the allowed headers and parameters, the structure.
    expect(dump).toStartWith("PUT\n/bucket/key\nSignature=<redacted>&X-Amz-Credential=AKID%2F20261125%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token=<redacted>&versionId=3\n");
    expect(dump).toContain("host:127.0.0.1:3000\n");
    expect(dump).toContain("range:bytes=0-9\n");
    expect(dump.split("\n").length).toBe(canonicalRequest(input).split("\n").length);
  });

  test("a real mismatch logs the dump and the string to sign, never a secret the client sent", async () => {
    const KEY = { accessKeyId: "AKIDTEST", secretAccessKey: "the-real-secret" };
    const keys = new Map<string, KnownKey>([[KEY.accessKeyId, { secretAccessKey: KEY.secretAccessKey }]]);
    const now = new Date("2026-11-25T12:00:00Z");
    const lines: string[] = [];
    const auth = createAuthenticator({ mode: "sigv4", regions: ["us-east-1"], lookupKey: async (id) => keys.get(id), now: () => now.getTime(), debug: (m) => lines.push(m) });
    const sse = {
      "x-amz-server-side-encryption-customer-algorithm": "AES256",
      "x-amz-server-side-encryption-customer-key": SECRETS["x-amz-server-side-encryption-customer-key"]!,
      "x-amz-server-side-encryption-customer-key-md5": SECRETS["x-amz-server-side-encryption-customer-key-md5"]!,
    };
    const s = await sign({ url: "http://127.0.0.1:3000/bucket/k", key: { ...KEY, secretAccessKey: "wrong", sessionToken: "session-token-value" }, date: now, headers: sse });
    const req = new Request(s.url, { headers: { ...s.headers, host: "127.0.0.1:3000" } });
    const op = parseOperation("GET", new URL(req.url), req.headers, { domains: [] });
    expect(auth(op, req)).rejects.toMatchObject({ code: "SignatureDoesNotMatch" });
    await Promise.resolve(auth(op, req)).catch(() => {});
    const text = lines.join("\n");
    expect(text).toContain("x-amz-server-side-encryption-customer-algorithm:AES256");
    for (const secret of [KEY.secretAccessKey, "session-token-value", sse["x-amz-server-side-encryption-customer-key"], sse["x-amz-server-side-encryption-customer-key-md5"], /Signature=(\w+)/.exec(s.headers.authorization!)![1]!])
      expect(text).not.toContain(secret);
  });
});
