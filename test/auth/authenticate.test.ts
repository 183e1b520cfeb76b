/**
 * The authenticator on requests signed by the JS SDK's signer at pinned times: every S3
 * error a client can earn, the bucket allow-list, and the body checks.
 */
import { describe, expect, test } from "bun:test";
import { createAuthenticator, type Authenticate, type AuthMode, type KnownKey } from "../../src/auth/authenticate.ts";
import { sha256Hex } from "../../src/auth/canonical.ts";
import { S3Error } from "../../src/s3/errors.ts";
import { parseOperation } from "../../src/s3/operation.ts";
import { sign, type SignedRequest } from "../support/sign.ts";

const NOW = new Date("2026-11-25T12:00:00Z");
const KEY = { accessKeyId: "AKIDTEST", secretAccessKey: "secret/with+chars" };
const LIMITED = { accessKeyId: "AKIDLIMITED", secretAccessKey: "other-secret" };
const KEYS = new Map<string, KnownKey>([
  [KEY.accessKeyId, { secretAccessKey: KEY.secretAccessKey }],
  [LIMITED.accessKeyId, { secretAccessKey: LIMITED.secretAccessKey, buckets: new Set(["allowed"]) }],
]);
const BASE = "http://127.0.0.1:9000";

function authenticator(mode: AuthMode = "sigv4", now = NOW): Authenticate {
  return createAuthenticator({ mode, regions: ["us-east-1", "eu-west-1"], lookupKey: async (id) => KEYS.get(id), now: () => now.getTime() });
}

function toRequest(s: SignedRequest, extra: Record<string, string> = {}, body?: Uint8Array): Request {
  return new Request(s.url, { method: s.method, headers: { ...s.headers, host: new URL(s.url).host, ...extra }, body });
}

/** Authenticate and read the body; "ok" or the S3 error code (with its message for a few checks). */
async function verdict(req: Request, auth = authenticator()): Promise<string> {
  try {
    const op = parseOperation(req.method, new URL(req.url), req.headers, { domains: [] });
    const result = await auth(op, req);
    if (result.body) await new Response(result.body).arrayBuffer();
    return "ok";
  } catch (err) {
    if (err instanceof S3Error) return err.code;
    throw err;
  }
}

async function errorOf(req: Request, auth = authenticator()): Promise<S3Error> {
  const op = parseOperation(req.method, new URL(req.url), req.headers, { domains: [] });
  try {
    const r = await auth(op, req);
    if (r.body) await new Response(r.body).arrayBuffer();
  } catch (err) {
    return err as S3Error;
  }
  throw new Error("expected an S3 error");
}

const get = (overrides: Partial<Parameters<typeof sign>[0]> = {}) => sign({ url: `${BASE}/bucket/some%20key.txt`, key: KEY, date: NOW, ...overrides });

describe("header authentication", () => {
  test("a correctly signed request is accepted and names its access key", async () => {
    const req = toRequest(await get());
    const op = parseOperation(req.method, new URL(req.url), req.headers, { domains: [] });
    expect((await authenticator()(op, req)).identity).toEqual({ mode: "sigv4", principal: KEY.accessKeyId });
  });

  test("a request without any authentication gets AccessDenied", async () => {
    expect(await verdict(new Request(`${BASE}/bucket/key`))).toBe("AccessDenied");
  });

  test("an unknown access key gets InvalidAccessKeyId", async () => {
    expect(await verdict(toRequest(await get({ key: { accessKeyId: "NOPE", secretAccessKey: "x" } })))).toBe("InvalidAccessKeyId");
  });

  test("a wrong secret gets SignatureDoesNotMatch", async () => {
    expect(await verdict(toRequest(await get({ key: { ...KEY, secretAccessKey: "wrong" } })))).toBe("SignatureDoesNotMatch");
  });

  test("a signed header changed after signing gets SignatureDoesNotMatch", async () => {
    const s = await get({ headers: { range: "bytes=0-9" } });
    expect(await verdict(toRequest(s))).toBe("ok");
    expect(await verdict(toRequest(s, { range: "bytes=0-99" }))).toBe("SignatureDoesNotMatch");
  });

  test("two Authorization headers (joined by the server), or one beside presign parameters, get InvalidArgument", async () => {
    const first = await get();
    const second = await get({ url: `${BASE}/other/key` });
    // What Bun hands over for two Authorization headers: both values joined with ", ".
    const e = await errorOf(toRequest(first, { authorization: `${first.headers.authorization}, ${second.headers.authorization}` }));
    expect([e.code, e.status]).toEqual(["InvalidArgument", 400]);
    const presigned = await get({ presignSeconds: 60 });
    expect(await verdict(toRequest({ ...first, url: presigned.url }))).toBe("InvalidArgument");
    expect(await verdict(toRequest(first, { authorization: first.headers.authorization!.replace("Signature=", "Signature=0,Signature=") }))).toBe("AuthorizationHeaderMalformed");
  });

  test("an x-amz-* header added without being signed gets AccessDenied", async () => {
    const e = await errorOf(toRequest(await get(), { "x-amz-copy-source": "bucket/other" }));
    expect(e.code).toBe("AccessDenied");
    expect(e.details.HeadersNotSigned).toBe("x-amz-copy-source");
  });

  test("a region this proxy does not serve gets AuthorizationHeaderMalformed naming the expected region", async () => {
    const e = await errorOf(toRequest(await get({ region: "ap-south-2" })));
    expect(e.code).toBe("AuthorizationHeaderMalformed");
    expect(e.status).toBe(400);
    expect(e.details.Region).toBe("us-east-1");
    expect(await verdict(toRequest(await get({ region: "eu-west-1" })))).toBe("ok");
  });

  test("a clock more than 15 minutes off gets RequestTimeTooSkewed; 14 minutes is accepted", async () => {
    const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
    expect(await verdict(toRequest(await get({ date: at(-16) })))).toBe("RequestTimeTooSkewed");
    expect(await verdict(toRequest(await get({ date: at(16) })))).toBe("RequestTimeTooSkewed");
    expect(await verdict(toRequest(await get({ date: at(-14) })))).toBe("ok");
  });

  test("a path changed after signing gets SignatureDoesNotMatch", async () => {
    const s = await get();
    expect(await verdict(toRequest({ ...s, url: `${BASE}/bucket/some%20keY.txt` }))).toBe("SignatureDoesNotMatch");
  });

  test("a query parameter added after signing gets SignatureDoesNotMatch", async () => {
    const s = await get();
    expect(await verdict(toRequest({ ...s, url: `${s.url}?versionId=1` }))).toBe("SignatureDoesNotMatch");
  });

  test("an unknown scheme gets InvalidRequest (SigV2 is verified: sigv2-verify.test.ts)", async () => {
    expect(await verdict(new Request(`${BASE}/bucket/key`, { headers: { authorization: "AWS3 AKIDTEST:c2lnbmF0dXJl" } }))).toBe("InvalidRequest");
  });

  test("a garbled Authorization header gets AuthorizationHeaderMalformed", async () => {
    const headers = { authorization: "AWS4-HMAC-SHA256 Credential=AKIDTEST/2026/us-east-1/s3, Signature=abc", "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": "20261125T120000Z" };
    expect(await verdict(new Request(`${BASE}/bucket/key`, { headers }))).toBe("AuthorizationHeaderMalformed");
  });

  test("header auth without x-amz-content-sha256 gets InvalidRequest", async () => {
    const s = await get();
    const headers = { ...s.headers };
    delete headers["x-amz-content-sha256"];
    expect(await verdict(toRequest({ ...s, headers }))).toBe("InvalidRequest");
  });
});

describe("repeated requests (answered from verified signatures)", () => {
  /** One authenticator for a sequence of requests, with keys and clock the test changes. */
  function shared() {
    const keys = new Map<string, KnownKey>([[KEY.accessKeyId, { secretAccessKey: KEY.secretAccessKey }]]);
    const clock = { now: NOW.getTime() };
    const auth = createAuthenticator({ mode: "sigv4", regions: ["us-east-1"], lookupKey: async (id) => keys.get(id), now: () => clock.now });
    return { keys, clock, auth };
  }

  /** Accepted twice, so the cache keeps it and the next identical request is answered from it. */
  async function acceptedTwice(req: () => Request, auth: Authenticate): Promise<void> {
    expect(await verdict(req(), auth)).toBe("ok");
    expect(await verdict(req(), auth)).toBe("ok");
  }

  test("a repeat with a signed header changed is refused although the same signature was accepted", async () => {
    const { auth } = shared();
    const s = await get({ headers: { range: "bytes=0-9" } });
    await acceptedTwice(() => toRequest(s), auth);
    expect(await verdict(toRequest(s), auth)).toBe("ok");
    expect(await verdict(toRequest(s, { range: "bytes=0-99" }), auth)).toBe("SignatureDoesNotMatch");
  });

  test("a repeat after the key's secret changed is verified afresh and refused", async () => {
    const { keys, auth } = shared();
    const s = await get();
    await acceptedTwice(() => toRequest(s), auth);
    keys.set(KEY.accessKeyId, { secretAccessKey: "rotated" });
    expect(await verdict(toRequest(s), auth)).toBe("SignatureDoesNotMatch");
  });

  test("a repeat after the key was removed gets InvalidAccessKeyId", async () => {
    const { keys, auth } = shared();
    const s = await get();
    await acceptedTwice(() => toRequest(s), auth);
    keys.delete(KEY.accessKeyId);
    expect(await verdict(toRequest(s), auth)).toBe("InvalidAccessKeyId");
  });

  test("a repeat more than 15 minutes after the request's date gets RequestTimeTooSkewed", async () => {
    const { clock, auth } = shared();
    const s = await get();
    await acceptedTwice(() => toRequest(s), auth);
    clock.now += 14 * 60_000;
    expect(await verdict(toRequest(s), auth)).toBe("ok");
    clock.now += 2 * 60_000;
    expect(await verdict(toRequest(s), auth)).toBe("RequestTimeTooSkewed");
  });

  test("a repeat carrying an unsigned x-amz-* header gets AccessDenied", async () => {
    const { auth } = shared();
    const s = await get();
    await acceptedTwice(() => toRequest(s), auth);
    expect(await verdict(toRequest(s, { "x-amz-copy-source": "bucket/other" }), auth)).toBe("AccessDenied");
  });
});

describe("presigned URLs", () => {
  test("a presigned URL is accepted within its lifetime", async () => {
    const s = await get({ presignSeconds: 3600, date: new Date(NOW.getTime() - 3000_000) });
    expect(await verdict(toRequest(s))).toBe("ok");
  });

  test("a presigned URL used after expiry gets AccessDenied 'Request has expired'", async () => {
    const s = await get({ presignSeconds: 60, date: new Date(NOW.getTime() - 61_000) });
    const e = await errorOf(toRequest(s));
    expect(e.code).toBe("AccessDenied");
    expect(e.message).toBe("Request has expired");
  });

  test("X-Amz-Expires over 7 days gets AuthorizationQueryParametersError", async () => {
    const s = await get({ presignSeconds: 3600 });
    const url = s.url.replace("X-Amz-Expires=3600", "X-Amz-Expires=604801");
    expect(await verdict(toRequest({ ...s, url }))).toBe("AuthorizationQueryParametersError");
  });

  test("an x-amz-* header the presigned URL does not sign gets AccessDenied naming it, as S3 answers", async () => {
    const s = await get({ presignSeconds: 3600, method: "PUT" });
    const extras: Array<Record<string, string>> = [{ "x-amz-copy-source": "bucket/other" }, { "x-amz-meta-owner": "me" }, { "x-amz-storage-class": "GLACIER" }];
    for (const extra of extras) {
      const e = await errorOf(toRequest(s, extra));
      expect([e.code, e.message, e.details.HeadersNotSigned]).toEqual(["AccessDenied", "There were headers present in the request which were not signed", Object.keys(extra)[0]]);
    }
    expect(await verdict(toRequest(s, { "content-type": "text/plain" }))).toBe("ok");
  });

  test("a presigned URL with a changed signature gets SignatureDoesNotMatch", async () => {
    const s = await get({ presignSeconds: 3600 });
    const url = s.url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`);
    expect(await verdict(toRequest({ ...s, url }))).toBe("SignatureDoesNotMatch");
  });
});

describe("payload verification", () => {
  const body = new TextEncoder().encode("the object body");
  const put = (payloadHash: string) => sign({ method: "PUT", url: `${BASE}/bucket/k`, key: KEY, date: NOW, payloadHash, headers: { "content-length": String(body.length) } });

  test("a body matching its signed SHA-256 is accepted", async () => {
    expect(await verdict(toRequest(await put(sha256Hex(body)), {}, body))).toBe("ok");
  });

  test("a body that differs from its signed SHA-256 gets XAmzContentSHA256Mismatch", async () => {
    const other = new TextEncoder().encode("the object bodY");
    expect(await verdict(toRequest(await put(sha256Hex(body)), {}, other))).toBe("XAmzContentSHA256Mismatch");
  });

  test("an empty body claiming a non-empty SHA-256 gets XAmzContentSHA256Mismatch", async () => {
    const s = await sign({ method: "PUT", url: `${BASE}/bucket/k`, key: KEY, date: NOW, payloadHash: sha256Hex(body), headers: { "content-length": "0" } });
    expect(await verdict(toRequest(s))).toBe("XAmzContentSHA256Mismatch");
  });

  test("an unknown x-amz-content-sha256 value gets InvalidArgument", async () => {
    expect(await verdict(toRequest(await put("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"), {}, body))).toBe("InvalidArgument");
  });
});

describe("bucket allow-list", () => {
  const as = (url: string, headers: Record<string, string> = {}) => sign({ url, key: LIMITED, date: NOW, headers });

  test("a limited key reaches its own bucket", async () => {
    expect(await verdict(toRequest(await as(`${BASE}/allowed/key`)))).toBe("ok");
  });

  test("a limited key gets AccessDenied for another bucket, and for ListBuckets", async () => {
    expect(await verdict(toRequest(await as(`${BASE}/other/key`)))).toBe("AccessDenied");
    expect(await verdict(toRequest(await as(`${BASE}/`)))).toBe("AccessDenied");
  });

  test("a limited key cannot copy out of a bucket outside its list", async () => {
    expect(await verdict(toRequest(await as(`${BASE}/allowed/copy`, { "x-amz-copy-source": "/other/secret.txt" })))).toBe("AccessDenied");
    expect(await verdict(toRequest(await as(`${BASE}/allowed/copy`, { "x-amz-copy-source": "allowed/a%20b.txt" })))).toBe("ok");
  });

  test("a limited key cannot climb out of its bucket through dot segments in a copy source, however they are spelt", async () => {
    for (const source of ["allowed/../other/secret.txt", "allowed/%2E%2E/other/secret.txt", "allowed/./../other/secret.txt", "allowed/x/../../other/secret.txt", "/allowed/..%2Fother/secret.txt"]) {
      expect([source, await verdict(toRequest(await as(`${BASE}/allowed/copy`, { "x-amz-copy-source": source })))]).toEqual([source, "InvalidRequest"]);
    }
  });
});

describe("modes", () => {
  test("none accepts an anonymous request", async () => {
    expect(await verdict(new Request(`${BASE}/bucket/key`), authenticator("none"))).toBe("ok");
  });

  test("web-identity without a token gets AccessDenied", async () => {
    const auth = createAuthenticator({ mode: "web-identity", regions: ["us-east-1"], webIdentity: {} as never });
    expect(await verdict(new Request(`${BASE}/bucket/key`), auth)).toBe("AccessDenied");
  });
});

describe("what a signature mismatch reveals", () => {
  test("the debug log gets the expected canonical request and string to sign, never the secret, the signature or a session token", async () => {
    const lines: string[] = [];
    const auth = createAuthenticator({ mode: "sigv4", regions: ["us-east-1"], lookupKey: async (id) => KEYS.get(id), now: () => NOW.getTime(), debug: (m) => lines.push(m) });
    const s = await sign({ url: `${BASE}/bucket/k?X-Amz-Security-Token=tok-in-query`, key: { ...KEY, secretAccessKey: "wrong", sessionToken: "session-token-value" }, date: NOW });
    expect(await verdict(toRequest(s), auth)).toBe("SignatureDoesNotMatch");
    const text = lines.join("\n");
    expect(text).toContain("canonical request:\nGET\n/bucket/k\n");
    expect(text).toContain("x-amz-security-token:<redacted>");
    expect(text).toContain("X-Amz-Security-Token=<redacted>");
    const signature = /Signature=([0-9a-f]{64})/.exec(s.headers.authorization!)![1]!;
    for (const secret of [KEY.secretAccessKey, "session-token-value", "tok-in-query", signature]) expect(text).not.toContain(secret);
  });
});
