/**
 * `--auth sigv4` with two keys, each limited to one bucket, probed as an attacker would:
 * a key must never reach the other bucket through any spelling of a name, and what the
 * backend receives (seen by a recording relay) is exactly what was authorised.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, UploadPartCopyCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { startBackend, type Backend } from "../support/backend.ts";
import { sdkClient } from "../support/clients.ts";
import { botocoreSigV2 } from "../support/credentialed-clients.ts";
import { metricValue, scrape, type Sample } from "../support/prometheus.ts";
import { startCountingRelay, type CountingRelay } from "../support/counting-relay.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";
import { errorCodeOf, rawRequest } from "../support/raw-http.ts";
import { sign } from "../support/sign.ts";

const A = { accessKeyId: "AKIDBUCKETA", secretAccessKey: "secret-a" };
const B = { accessKeyId: "AKIDBUCKETB", secretAccessKey: "secret-b" };
const ADMIN = { accessKeyId: "AKIDADMIN", secretAccessKey: "secret-admin" };

let backend: Backend;
let relay: CountingRelay;
let proxy: TestProxy;
let asB: S3Client;
let direct: S3Client;

beforeAll(async () => {
  backend = await startBackend(["bucket-a", "bucket-b"]);
  relay = startCountingRelay(backend.endpoint);
  proxy = await startTestProxy(
    { ...backend, endpoint: relay.endpoint },
    {
      cache: false,
      "client-keys-inline": `${A.accessKeyId}:${A.secretAccessKey}:bucket-a,${B.accessKeyId}:${B.secretAccessKey}:bucket-b,${ADMIN.accessKeyId}:${ADMIN.secretAccessKey}`,
    },
  );
  asB = sdkClient(proxy.endpoint, { ...B, region: "us-east-1" });
  direct = sdkClient(backend.endpoint, backend);
  await direct.send(new PutObjectCommand({ Bucket: "bucket-a", Key: "secret.txt", Body: "A's secret" }));
  await direct.send(new PutObjectCommand({ Bucket: "bucket-a", Key: "victim.txt", Body: "still here" }));
  await direct.send(new PutObjectCommand({ Bucket: "bucket-b", Key: "own.txt", Body: "B's own" }));
});

afterAll(async () => {
  await proxy?.stop();
  await relay?.stop();
  await backend?.stop();
});

/** The S3 error of a failed SDK call: [name, status]. */
async function failure(call: Promise<unknown>): Promise<[string, number | undefined]> {
  const e = await call.then(
    () => new Error("succeeded"),
    (err) => err,
  );
  return [e.name, e.$metadata?.httpStatusCode];
}

async function exists(Bucket: string, Key: string): Promise<boolean> {
  return direct.send(new HeadObjectCommand({ Bucket, Key })).then(
    () => true,
    () => false,
  );
}

const CLIMBS = ["bucket-b/../bucket-a/secret.txt", "bucket-b/%2E%2E/bucket-a/secret.txt", "bucket-b/./../bucket-a/secret.txt", "bucket-b/x/../../bucket-a/secret.txt", "/bucket-b/%2e%2e%2Fbucket-a/secret.txt"];

describe("copy sources", () => {
  test("dot segments in x-amz-copy-source never reach another bucket (CopyObject): 400, nothing forwarded", async () => {
    relay.reset();
    for (const CopySource of CLIMBS) {
      expect([CopySource, ...(await failure(asB.send(new CopyObjectCommand({ Bucket: "bucket-b", Key: "copy.txt", CopySource }))))]).toEqual([CopySource, "InvalidRequest", 400]);
    }
    expect(relay.seen).toEqual([]);
    expect(await exists("bucket-b", "copy.txt")).toBe(false);
  });

  test("nor through UploadPartCopy", async () => {
    const { UploadId } = await asB.send(new CreateMultipartUploadCommand({ Bucket: "bucket-b", Key: "parts.bin" }));
    relay.reset();
    for (const CopySource of CLIMBS) {
      expect(await failure(asB.send(new UploadPartCopyCommand({ Bucket: "bucket-b", Key: "parts.bin", UploadId, PartNumber: 1, CopySource })))).toEqual(["InvalidRequest", 400]);
    }
    expect(relay.seen).toEqual([]);
  });

  test("a copy within the key's own bucket works, and the backend gets the source in its canonical spelling", async () => {
    relay.reset();
    await asB.send(new CopyObjectCommand({ Bucket: "bucket-b", Key: "copy of own.txt", CopySource: "/bucket-b/o%77n.txt" }));
    expect(relay.seen.map((r) => r.copySource)).toEqual(["bucket-b/own.txt"]);
    expect(await (await direct.send(new GetObjectCommand({ Bucket: "bucket-b", Key: "copy of own.txt" }))).Body!.transformToString()).toBe("B's own");
  });

  test("a copy source in the other bucket is refused", async () => {
    expect(await failure(asB.send(new CopyObjectCommand({ Bucket: "bucket-b", Key: "copy.txt", CopySource: "bucket-a/secret.txt" })))).toEqual(["AccessDenied", 403]);
  });
});

describe("DeleteObjects", () => {
  test("keys with dot segments in the XML body are refused and nothing is deleted in the other bucket", async () => {
    relay.reset();
    for (const Key of ["../bucket-a/victim.txt", "x/../../bucket-a/victim.txt", ".."]) {
      expect([Key, ...(await failure(asB.send(new DeleteObjectsCommand({ Bucket: "bucket-b", Delete: { Objects: [{ Key: "own-missing" }, { Key }] } }))))]).toEqual([Key, "InvalidRequest", 400]);
    }
    expect(relay.seen).toEqual([]);
    expect(await exists("bucket-a", "victim.txt")).toBe(true);
  });

  test("plain keys are deleted as before", async () => {
    await direct.send(new PutObjectCommand({ Bucket: "bucket-b", Key: "gone.txt", Body: "x" }));
    const res = await asB.send(new DeleteObjectsCommand({ Bucket: "bucket-b", Delete: { Objects: [{ Key: "gone.txt" }] } }));
    expect(res.Deleted?.map((d) => d.Key)).toEqual(["gone.txt"]);
    expect(await exists("bucket-b", "gone.txt")).toBe(false);
  });
});

describe("presigned URLs", () => {
  test("x-amz-* headers the URL does not sign are refused with HeadersNotSigned, nothing forwarded", async () => {
    const url = await getSignedUrl(asB, new PutObjectCommand({ Bucket: "bucket-b", Key: "upload.txt" }), { expiresIn: 300 });
    relay.reset();
    const extras: Array<Record<string, string>> = [{ "x-amz-copy-source": "bucket-b/own.txt" }, { "x-amz-meta-forged": "1" }, { "x-amz-storage-class": "GLACIER" }];
    for (const extra of extras) {
      const res = await fetch(url, { method: "PUT", headers: extra, body: "uploaded" });
      const text = await res.text();
      expect([res.status, /<Code>(\w+)</.exec(text)?.[1], /<HeadersNotSigned>([^<]*)</.exec(text)?.[1]]).toEqual([403, "AccessDenied", Object.keys(extra)[0]]);
    }
    // A copy source with dot segments is refused before the signature is even looked at.
    expect((await fetch(url, { method: "PUT", headers: { "x-amz-copy-source": "bucket-a/../bucket-b/own.txt" }, body: "x" })).status).toBe(400);
    expect(relay.seen).toEqual([]);
    expect((await fetch(url, { method: "PUT", body: "uploaded" })).status).toBe(200);
  });
});

describe("what is authorised is what is forwarded", () => {
  test("GET //bucket-a/secret.txt by an unlimited key is refused as a bad URI, not served as ListBuckets or GetObject", async () => {
    relay.reset();
    // fetch collapses `//`: the request goes raw, signed for the path exactly as sent.
    const s = await sign({ url: `${proxy.endpoint}//bucket-a/secret.txt`, key: ADMIN });
    const headers = Object.entries({ host: new URL(proxy.endpoint).host, ...s.headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    const res = await rawRequest(proxy.server.port!, `GET //bucket-a/secret.txt HTTP/1.1\r\n${headers}\r\n`);
    expect([res.status, errorCodeOf(res.text)]).toEqual([400, "InvalidURI"]);
    expect(relay.seen).toEqual([]);
  });
});

describe("one credential per request", () => {
  test("two Authorization headers, each valid on its own, are refused with 400 InvalidArgument", async () => {
    const url = `${proxy.endpoint}/bucket-b/own.txt`;
    const [asOwner, asOther] = [await sign({ url, key: B }), await sign({ url, key: ADMIN })];
    const headers = `host: ${new URL(url).host}\r\nx-amz-date: ${asOwner.headers["x-amz-date"]}\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n`;
    const res = await rawRequest(proxy.server.port!, `GET /bucket-b/own.txt HTTP/1.1\r\n${headers}authorization: ${asOther.headers.authorization}\r\nauthorization: ${asOwner.headers.authorization}\r\n\r\n`);
    expect([res.status, errorCodeOf(res.text)]).toEqual([400, "InvalidArgument"]);
  });
});

describe("SigV2 (botocore's default presigner, and header auth), with the same keys and allow-list", () => {
  /** What botocore_sigv2.py prints. */
  let out: { put_status: number; get: unknown; list_keys: string[]; presigned_get: string; presigned_get_override: string; presigned_put: string; presigned_expired: string };
  beforeAll(async () => {
    const r = await botocoreSigV2(proxy.endpoint, B, "bucket-b", "sigv2/ü key+plus.txt");
    expect(r.stderr).toBe("");
    out = JSON.parse(r.stdout);
  }, 30_000);

  test("header-signed put, ranged get and list verify and are served", () => {
    expect(out.put_status).toBe(200);
    expect(out.get).toEqual({ status: 206, body: "signed", meta: { signer: "hmacv1" } });
    expect(out.list_keys).toEqual(["sigv2/ü key+plus.txt"]);
  });

  test("the presigned URLs botocore makes by default are SigV2, and verify", async () => {
    expect(new URL(out.presigned_get).searchParams.get("AWSAccessKeyId")).toBe(B.accessKeyId);
    const res = await fetch(out.presigned_get);
    expect([res.status, await res.text()]).toEqual([200, "signed with SigV2 by botocore"]);
    const override = await fetch(out.presigned_get_override);
    expect([override.status, override.headers.get("content-type")]).toEqual([200, "application/x-override"]);
    expect((await fetch(out.presigned_put, { method: "PUT", body: "via a SigV2 URL" })).status).toBe(200);
    expect(await (await direct.send(new GetObjectCommand({ Bucket: "bucket-b", Key: "sigv2/ü key+plus.txt.put" }))).Body!.transformToString()).toBe("via a SigV2 URL");
  });

  test("tampered, expired, for the other bucket, or carrying an unsigned x-amz-* header: refused", async () => {
    const code = async (url: string, init?: RequestInit) => {
      const res = await fetch(url, init);
      return [res.status, errorCodeOf(await res.text())];
    };
    const url = new URL(out.presigned_get);
    const sig = url.searchParams.get("Signature")!;
    const tampered = new URL(url);
    tampered.searchParams.set("Signature", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
    expect(await code(tampered.href)).toEqual([403, "SignatureDoesNotMatch"]);
    const later = new URL(url);
    later.searchParams.set("Expires", String(Number(url.searchParams.get("Expires")) + 3600));
    expect(await code(later.href)).toEqual([403, "SignatureDoesNotMatch"]);
    expect(await code(out.presigned_expired)).toEqual([403, "AccessDenied"]);
    expect(await code(out.presigned_get.replace("/bucket-b/", "/bucket-a/"))).toEqual([403, "SignatureDoesNotMatch"]);
    expect(await code(out.presigned_get, { headers: { "x-amz-server-side-encryption-customer-algorithm": "AES256" } })).toEqual([403, "SignatureDoesNotMatch"]);
    const wrongKey = new URL(url);
    wrongKey.searchParams.set("AWSAccessKeyId", "AKIDNOBODY");
    expect(await code(wrongKey.href)).toEqual([403, "InvalidAccessKeyId"]);
  });

  test("a valid SigV2 signature by a key limited to the other bucket is AccessDenied", async () => {
    const r = await botocoreSigV2(proxy.endpoint, A, "bucket-b", "sigv2/by-a.txt");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("AccessDenied");
  }, 30_000);
});

describe("refusals are counted", () => {
  test("s3proxy_auth_failures_total{code} counts every request authentication refused, by the code sent", async () => {
    const before = await scrape(`${proxy.endpoint}/_s3proxy/metrics`);
    const count = (samples: Sample[], code: string) => metricValue(samples, "s3proxy_auth_failures_total", { code });
    const url = `${proxy.endpoint}/bucket-a/secret.txt`;
    const wrong = await sign({ url, key: { ...A, secretAccessKey: "wrong" } });
    const unknown = await sign({ url, key: { accessKeyId: "AKIDNOBODY", secretAccessKey: "x" } });
    const foreign = await sign({ url, key: B });
    const statuses = [];
    for (const r of [{ url }, { url }, wrong, unknown, foreign]) statuses.push((await fetch(r.url, { headers: "headers" in r ? r.headers : {} })).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403]);
    const after = await scrape(`${proxy.endpoint}/_s3proxy/metrics`);
    expect(count(after, "AccessDenied") - count(before, "AccessDenied")).toBe(3);
    expect(count(after, "SignatureDoesNotMatch") - count(before, "SignatureDoesNotMatch")).toBe(1);
    expect(count(after, "InvalidAccessKeyId") - count(before, "InvalidAccessKeyId")).toBe(1);
  });
});
