/**
 * The cache of verified header signatures: a hit only for a request identical in every
 * input of the verification, only inside its time window, and never more entries than its
 * bound.
 */
import { describe, expect, test } from "bun:test";
import { readClaim } from "../../src/auth/sigv4-verify.ts";
import { VerifiedSignatureCache, type SignedRequest } from "../../src/auth/verified-signatures.ts";

const SIGNED_AT = Date.UTC(2026, 10, 25, 12, 0, 0);
const AUTHORIZATION = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261125/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=" + "ab".repeat(32);
const HEADERS = {
  host: "127.0.0.1:9000",
  range: "bytes=0-99",
  "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
  "x-amz-date": "20261125T120000Z",
  authorization: AUTHORIZATION,
};
const URL_ = "http://127.0.0.1:9000/bucket/key.bin?versionId=1";

function request(overrides: { method?: string; url?: string; headers?: Record<string, string | undefined> } = {}): SignedRequest {
  const headers = new Headers();
  for (const [name, value] of Object.entries({ ...HEADERS, ...overrides.headers })) if (value !== undefined) headers.set(name, value);
  return { method: overrides.method ?? "GET", url: overrides.url ?? URL_, headers };
}

function verifiedOnce(req: SignedRequest, cache: VerifiedSignatureCache): void {
  const claim = readClaim({ method: req.method, rawPath: new URL(req.url).pathname, query: [], headers: req.headers })!;
  cache.remember(req, { claim, secret: "secret", signingKey: new Uint8Array(32) });
}

/** A cache holding `req` as verified: seen verified twice, which is what keeps an entry. */
function remembered(req = request(), cache = new VerifiedSignatureCache()): VerifiedSignatureCache {
  verifiedOnce(req, cache);
  verifiedOnce(req, cache);
  return cache;
}

describe("verified signatures", () => {
  test("an identical request hits, with the claim and key it was verified with", () => {
    const hit = remembered().find(request(), SIGNED_AT);
    expect(hit?.claim.accessKeyId).toBe("AKIDTEST");
    expect(hit?.secret).toBe("secret");
  });

  test("a request verified once is only noted; verified a second time, it is kept", () => {
    const cache = new VerifiedSignatureCache();
    verifiedOnce(request(), cache);
    expect(cache.find(request(), SIGNED_AT)).toBeUndefined();
    verifiedOnce(request(), cache);
    expect(cache.find(request(), SIGNED_AT)).toBeDefined();
  });

  test("a request differing in the value of any signed header misses", () => {
    const cache = remembered();
    expect(cache.find(request({ headers: { range: "bytes=0-100" } }), SIGNED_AT)).toBeUndefined();
    expect(cache.find(request({ headers: { host: "127.0.0.1:9001" } }), SIGNED_AT)).toBeUndefined();
    expect(cache.find(request({ headers: { "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" } }), SIGNED_AT)).toBeUndefined();
    expect(cache.find(request({ headers: { range: undefined } }), SIGNED_AT)).toBeUndefined();
  });

  test("a request with another date misses, signed or not", () => {
    expect(remembered().find(request({ headers: { "x-amz-date": "20261125T120001Z" } }), SIGNED_AT)).toBeUndefined();
    // The HTTP Date header is read when X-Amz-Date is absent, so it counts even when unsigned.
    expect(remembered().find(request({ headers: { date: "Wed, 25 Nov 2026 12:00:00 GMT" } }), SIGNED_AT)).toBeUndefined();
  });

  test("a request with another path, query or method misses", () => {
    const cache = remembered();
    expect(cache.find(request({ url: "http://127.0.0.1:9000/bucket/key.bin2?versionId=1" }), SIGNED_AT)).toBeUndefined();
    expect(cache.find(request({ url: "http://127.0.0.1:9000/bucket/key%2Ebin?versionId=1" }), SIGNED_AT)).toBeUndefined();
    expect(cache.find(request({ url: "http://127.0.0.1:9000/bucket/key.bin?versionId=2" }), SIGNED_AT)).toBeUndefined();
    expect(cache.find(request({ url: "http://127.0.0.1:9000/bucket/key.bin" }), SIGNED_AT)).toBeUndefined();
    expect(cache.find(request({ method: "HEAD" }), SIGNED_AT)).toBeUndefined();
  });

  test("a request with another Authorization header (signature, credential or signed headers) misses", () => {
    const cache = remembered();
    expect(cache.find(request({ headers: { authorization: AUTHORIZATION.replace(/Signature=.*/, `Signature=${"cd".repeat(32)}`) } }), SIGNED_AT)).toBeUndefined();
    expect(cache.find(request({ headers: { authorization: AUTHORIZATION.replace("AKIDTEST", "AKIDOTHER") } }), SIGNED_AT)).toBeUndefined();
    expect(cache.find(request({ headers: { authorization: undefined } }), SIGNED_AT)).toBeUndefined();
  });

  test("an entry answers inside X-Amz-Date ± 15 minutes and is dropped outside it", () => {
    const cache = remembered();
    expect(cache.find(request(), SIGNED_AT + 15 * 60_000)).toBeDefined();
    expect(cache.find(request(), SIGNED_AT - 15 * 60_000)).toBeDefined();
    expect(cache.find(request(), SIGNED_AT + 15 * 60_000 + 1)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(remembered().find(request(), SIGNED_AT - 15 * 60_000 - 1)).toBeUndefined();
  });

  test("presigned verifications are not kept", () => {
    const cache = new VerifiedSignatureCache();
    const req = request();
    const claim = { ...readClaim({ method: "GET", rawPath: "/bucket/key.bin", query: [], headers: req.headers })!, presigned: true };
    for (let i = 0; i < 3; i++) cache.remember(req, { claim, secret: "secret", signingKey: new Uint8Array(32) });
    expect(cache.size).toBe(0);
  });

  test("the cache is bounded, dropping the oldest entry first", () => {
    const cache = new VerifiedSignatureCache(2);
    const signed = (n: number) => request({ headers: { authorization: AUTHORIZATION.replace(/Signature=.*/, `Signature=${String(n).repeat(64)}`) } });
    for (const n of [1, 2, 3]) remembered(signed(n), cache);
    expect(cache.size).toBe(2);
    expect(cache.find(signed(1), SIGNED_AT)).toBeUndefined();
    expect(cache.find(signed(2), SIGNED_AT)).toBeDefined();
    expect(cache.find(signed(3), SIGNED_AT)).toBeDefined();
  });
});
