/**
 * `--auth sigv4`: clients sign with keys issued for the proxy. Real clients succeed with a
 * good key; every failure a client can earn comes back as S3's error over HTTP; a body that
 * fails verification never becomes an object on the backend.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { readFileSync, writeFileSync } from "node:fs";
import { Readable } from "node:stream";
import { sha256Hex } from "../../src/auth/canonical.ts";
import { deriveSigningKey } from "../../src/auth/signing-key.ts";
import { startBackend, type Backend } from "../support/backend.ts";
import { frame, signChunks } from "../support/chunked-body.ts";
import { awsCli, boto3Roundtrip, curl, s3cmd, tempFile } from "../support/credentialed-clients.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { parquetBytes, polarsSumOfSquares } from "../support/polars.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";
import { fillsSettled } from "../support/prometheus.ts";
import { sign } from "../support/sign.ts";

const KEY = { accessKeyId: "AKIDPROXYUSER", secretAccessKey: "proxy/user+secret" };
const LIMITED = { accessKeyId: "AKIDLIMITED", secretAccessKey: "limited-secret" };
const LATER = { accessKeyId: "AKIDADDEDLATER", secretAccessKey: "later-secret" };
const SLOW = 30_000;

let backend: Backend;
let proxy: TestProxy;
let client: S3Client;
let direct: S3Client;
let Bucket: string;
let keysFile: string;

beforeAll(async () => {
  backend = await startBackend(["test-bucket", "second-bucket"]);
  Bucket = backend.bucket;
  keysFile = tempFile(new TextEncoder().encode(`# test keys\n${KEY.accessKeyId} ${KEY.secretAccessKey}\n${LIMITED.accessKeyId} ${LIMITED.secretAccessKey} second-bucket\n`), "keys");
  proxy = await startTestProxy(backend, { cache: false, "client-keys": keysFile });
  client = sdkClient(proxy.endpoint, { ...KEY, region: "us-east-1" });
  direct = sdkClient(backend.endpoint, backend);
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
});

/**
 * How many bytes the backend holds under a key (0 when none). s3rver keeps whatever part of
 * an aborted upload it received, where S3 stores nothing; either way a rejected body must
 * never have reached the backend complete.
 */
async function storedSize(Key: string): Promise<number> {
  try {
    return (await direct.send(new HeadObjectCommand({ Bucket, Key }))).ContentLength ?? 0;
  } catch {
    return 0;
  }
}

async function errorCode(res: Response): Promise<{ status: number; code: string | undefined }> {
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1] };
}

test("the proxy runs in sigv4 mode when client keys are configured", () => {
  expect(proxy.authMode).toBe("sigv4");
});

describe("real clients with a proxy key", () => {
  test(
    "aws-sdk: put and get, a multipart upload, and a streaming upload with the SDK's default checksums (aws-chunked + trailer)",
    async () => {
      const small = randomBytes(1000, 3);
      await client.send(new PutObjectCommand({ Bucket, Key: "sdk/small ü.bin", Body: small }));
      expect(await (await client.send(new GetObjectCommand({ Bucket, Key: "sdk/small ü.bin" }))).Body!.transformToByteArray()).toEqual(small);

      const part = randomBytes(5 * 1024 * 1024, 4);
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: "sdk/multi" }));
      const etags = [];
      for (const PartNumber of [1, 2]) etags.push((await client.send(new UploadPartCommand({ Bucket, Key: "sdk/multi", UploadId, PartNumber, Body: part }))).ETag);
      await client.send(new CompleteMultipartUploadCommand({ Bucket, Key: "sdk/multi", UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
      expect((await direct.send(new HeadObjectCommand({ Bucket, Key: "sdk/multi" }))).ContentLength).toBe(2 * part.length);

      const streamed = randomBytes(300_000, 5);
      await client.send(new PutObjectCommand({ Bucket, Key: "sdk/streamed", Body: Readable.from([streamed.subarray(0, 100_000), streamed.subarray(100_000)]), ContentLength: streamed.length }));
      expect(await (await direct.send(new GetObjectCommand({ Bucket, Key: "sdk/streamed" }))).Body!.transformToByteArray()).toEqual(streamed);
    },
    SLOW,
  );

  test("awscli: s3 cp of a 20 MiB file up and back down", async () => {
    const data = randomBytes(20 * 1024 * 1024, 6);
    const up = tempFile(data);
    expect((await awsCli(proxy.endpoint, KEY, "s3", "cp", up, `s3://${Bucket}/cli/20mib.bin`)).code).toBe(0);
    const down = `${up}.down`;
    expect((await awsCli(proxy.endpoint, KEY, "s3", "cp", `s3://${Bucket}/cli/20mib.bin`, down)).code).toBe(0);
    expect(sha256Hex(readFileSync(down))).toBe(sha256Hex(data));
  }, 120_000);

  test(
    "awscli with a wrong secret fails with SignatureDoesNotMatch",
    async () => {
      const r = await awsCli(proxy.endpoint, { ...KEY, secretAccessKey: "wrong" }, "s3api", "list-objects-v2", "--bucket", Bucket);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("SignatureDoesNotMatch");
    },
    SLOW,
  );

  test(
    "boto3: put_object, get_object, and its presigned URL fetched with curl",
    async () => {
      const data = randomBytes(50_000, 7);
      const r = await boto3Roundtrip(proxy.endpoint, KEY, Bucket, "boto3/key with space+plus.bin", tempFile(data));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const out = tempFile(new Uint8Array(0), "presigned.out");
      expect((await curl(r.stdout.trim(), out)).stdout).toBe("200");
      expect(sha256Hex(readFileSync(out))).toBe(sha256Hex(data));
    },
    SLOW,
  );

  test(
    "s3cmd: put and get",
    async () => {
      const data = randomBytes(30_000, 8);
      expect((await s3cmd(proxy.endpoint, KEY, "put", tempFile(data), `s3://${Bucket}/s3cmd/file.bin`)).code).toBe(0);
      const out = tempFile(new Uint8Array(0), "s3cmd.out");
      expect((await s3cmd(proxy.endpoint, KEY, "get", "--force", `s3://${Bucket}/s3cmd/file.bin`, out)).code).toBe(0);
      expect(sha256Hex(readFileSync(out))).toBe(sha256Hex(data));
    },
    SLOW,
  );

  test(
    "nodejs-polars scanParquet reads through the proxy with a proxy key, and is refused with a wrong one",
    async () => {
      await client.send(new PutObjectCommand({ Bucket, Key: "polars/t.parquet", Body: parquetBytes(1000) }));
      expect(await polarsSumOfSquares(proxy.endpoint, KEY, Bucket, "polars/t.parquet")).toBe(332833500);
      expect(polarsSumOfSquares(proxy.endpoint, { ...KEY, secretAccessKey: "wrong" }, Bucket, "polars/t.parquet")).rejects.toThrow();
    },
    SLOW,
  );
});

describe("errors over HTTP, as S3 answers them", () => {
  const url = () => `${proxy.endpoint}/${Bucket}/sdk/small%20%C3%BC.bin`;

  test("no authentication: 403 AccessDenied", async () => {
    expect(await errorCode(await fetch(url()))).toEqual({ status: 403, code: "AccessDenied" });
  });

  test("unknown access key: 403 InvalidAccessKeyId", async () => {
    const s = await sign({ url: url(), key: { accessKeyId: "AKIDUNKNOWN", secretAccessKey: "x" } });
    expect(await errorCode(await fetch(s.url, { headers: s.headers }))).toEqual({ status: 403, code: "InvalidAccessKeyId" });
  });

  test("tampered signed header: 403 SignatureDoesNotMatch, and the response does not reveal the canonical request", async () => {
    const s = await sign({ url: url(), key: KEY, headers: { range: "bytes=0-9" } });
    const res = await fetch(s.url, { headers: { ...s.headers, range: "bytes=0-99" } });
    const text = await res.text();
    expect(res.status).toBe(403);
    expect(text).toContain("<Code>SignatureDoesNotMatch</Code>");
    expect(text).not.toContain("CanonicalRequest");
    expect(text).not.toContain("AWS4-HMAC-SHA256\n");
  });

  test("clock 20 minutes behind: 403 RequestTimeTooSkewed", async () => {
    const s = await sign({ url: url(), key: KEY, date: new Date(Date.now() - 20 * 60_000) });
    expect(await errorCode(await fetch(s.url, { headers: s.headers }))).toEqual({ status: 403, code: "RequestTimeTooSkewed" });
  });

  test("wrong region: 400 AuthorizationHeaderMalformed naming us-east-1", async () => {
    const s = await sign({ url: url(), key: KEY, region: "eu-central-1" });
    const res = await fetch(s.url, { headers: s.headers });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).toContain("<Code>AuthorizationHeaderMalformed</Code>");
    expect(text).toContain("<Region>us-east-1</Region>");
  });

  test("presigned URL after expiry: 403 AccessDenied 'Request has expired'; before expiry it works", async () => {
    const expired = await sign({ url: url(), key: KEY, presignSeconds: 60, date: new Date(Date.now() - 120_000) });
    const res = await fetch(expired.url);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("<Message>Request has expired</Message>");
    const valid = await getSignedUrl(client, new GetObjectCommand({ Bucket, Key: "sdk/small ü.bin" }), { expiresIn: 60 });
    expect((await fetch(valid)).status).toBe(200);
  });

  test("a key limited to another bucket: 403 AccessDenied here, allowed in its own bucket", async () => {
    const limited = sdkClient(proxy.endpoint, { ...LIMITED, region: "us-east-1" });
    const denied = await limited.send(new GetObjectCommand({ Bucket, Key: "sdk/small ü.bin" })).catch((e) => e);
    expect([denied.name, denied.$metadata.httpStatusCode]).toEqual(["AccessDenied", 403]);
    await limited.send(new PutObjectCommand({ Bucket: "second-bucket", Key: "mine", Body: "ok" }));
  });

  test("a key added to the file is accepted after SIGHUP", async () => {
    const later = sdkClient(proxy.endpoint, { ...LATER, region: "us-east-1" });
    const before = await later.send(new HeadObjectCommand({ Bucket, Key: "sdk/small ü.bin" })).catch((e) => e);
    expect(before.$metadata.httpStatusCode).toBe(403);
    writeFileSync(keysFile, `${readFileSync(keysFile, "utf8")}${LATER.accessKeyId} ${LATER.secretAccessKey}\n`);
    process.kill(process.pid, "SIGHUP");
    let status = 0;
    for (let i = 0; i < 200 && status !== 200; i++) {
      await Bun.sleep(10);
      status = await later.send(new HeadObjectCommand({ Bucket, Key: "sdk/small ü.bin" })).then(
        (r) => r.$metadata.httpStatusCode!,
        (e) => e.$metadata.httpStatusCode,
      );
    }
    expect(status).toBe(200);
  });
});

describe("with the cache on, every request is verified, cache hits included", () => {
  let cached: TestProxy;
  beforeAll(async () => {
    cached = await startTestProxy(backend, { "client-keys": keysFile, prefetch: false });
    await direct.send(new PutObjectCommand({ Bucket, Key: "cached/obj.bin", Body: randomBytes(100_000, 12) }));
  });
  afterAll(async () => {
    await cached?.stop();
  });

  test("a cached object is refused to a wrong secret, a foreign key, an expired URL and an anonymous request", async () => {
    const url = `${cached.endpoint}/${Bucket}/cached/obj.bin`;
    for (const expected of ["MISS", "HIT"]) {
      const s = await sign({ url, key: KEY, headers: { range: "bytes=0-999" } });
      const res = await fetch(s.url, { headers: s.headers });
      expect([res.status, res.headers.get("x-cache")]).toEqual([206, expected]);
      await res.arrayBuffer();
      await fillsSettled(cached.endpoint);
    }
    const wrong = await sign({ url, key: { ...KEY, secretAccessKey: "wrong" }, headers: { range: "bytes=0-999" } });
    expect(await errorCode(await fetch(wrong.url, { headers: wrong.headers }))).toEqual({ status: 403, code: "SignatureDoesNotMatch" });
    const foreign = await sign({ url, key: LIMITED, headers: { range: "bytes=0-999" } });
    expect(await errorCode(await fetch(foreign.url, { headers: foreign.headers }))).toEqual({ status: 403, code: "AccessDenied" });
    const expired = await sign({ url, key: KEY, presignSeconds: 1, date: new Date(Date.now() - 10_000) });
    expect((await fetch(expired.url, { headers: { range: "bytes=0-999" } })).status).toBe(403);
    expect((await fetch(url, { headers: { range: "bytes=0-999" } })).status).toBe(403);
  });
});

describe("bodies that fail verification never reach the backend complete", () => {
  const data = randomBytes(200_000, 9);

  /** A PUT signed as STREAMING-AWS4-HMAC-SHA256-PAYLOAD, with the chunks passed through `mangle`. */
  async function chunkedPut(Key: string, mangle: (chunks: ReturnType<typeof signChunks>) => ReturnType<typeof signChunks> = (c) => c, cut = 0) {
    const pieces = [data.subarray(0, 65536), data.subarray(65536, 131072), data.subarray(131072)];
    const date = new Date();
    const s = await sign({
      method: "PUT",
      url: `${proxy.endpoint}/${Bucket}/${encodeURIComponent(Key)}`,
      key: KEY,
      date,
      payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      // Content-Length left unsigned (as the SDKs do for streams), so a cut body still passes the seed check.
      headers: { "content-encoding": "aws-chunked", "x-amz-decoded-content-length": String(data.length) },
    });
    const amzDate = s.headers["x-amz-date"]!;
    const seedSignature = /Signature=([0-9a-f]{64})/.exec(s.headers.authorization!)![1]!;
    const signing = { signingKey: deriveSigningKey(KEY.secretAccessKey, amzDate.slice(0, 8), "us-east-1", "s3"), amzDate, scope: `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`, seedSignature };
    let body = frame(mangle(signChunks(signing, pieces)));
    if (cut) body = body.subarray(0, body.length - cut);
    return fetch(s.url, { method: "PUT", headers: s.headers, body });
  }

  test("an intact signed chunked upload is stored", async () => {
    expect((await chunkedPut("chunked/intact")).status).toBe(200);
    expect(await (await direct.send(new GetObjectCommand({ Bucket, Key: "chunked/intact" }))).Body!.transformToByteArray()).toEqual(data);
  });

  test("a tampered body chunk: 403 SignatureDoesNotMatch, never stored whole", async () => {
    const res = await chunkedPut("chunked/tampered", (chunks) => {
      chunks[1]!.data = chunks[1]!.data.slice();
      chunks[1]!.data[10]! ^= 1;
      return chunks;
    });
    expect(await errorCode(res)).toEqual({ status: 403, code: "SignatureDoesNotMatch" });
    expect(await storedSize("chunked/tampered")).toBeLessThan(data.length);
  });

  test("a tampered last chunk: 403, never stored whole", async () => {
    const res = await chunkedPut("chunked/tampered-last", (chunks) => {
      chunks[2]!.data = chunks[2]!.data.slice();
      chunks[2]!.data[0]! ^= 1;
      return chunks;
    });
    expect(res.status).toBe(403);
    expect(await storedSize("chunked/tampered-last")).toBeLessThan(data.length);
  });

  test("a replayed chunk: 403, never stored whole", async () => {
    const res = await chunkedPut("chunked/replayed", (chunks) => [chunks[0]!, chunks[0]!, chunks[2]!, chunks[3]!]);
    expect(res.status).toBe(403);
    expect(await storedSize("chunked/replayed")).toBeLessThan(data.length);
  });

  test("a truncated chunked body: 400 IncompleteBody, never stored whole", async () => {
    const res = await chunkedPut("chunked/truncated", undefined, 100);
    expect(await errorCode(res)).toEqual({ status: 400, code: "IncompleteBody" });
    expect(await storedSize("chunked/truncated")).toBeLessThan(data.length);
  });

  test("a body that differs from its signed SHA-256: 400 XAmzContentSHA256Mismatch, never stored whole", async () => {
    const s = await sign({ method: "PUT", url: `${proxy.endpoint}/${Bucket}/literal/mismatch`, key: KEY, payloadHash: sha256Hex(data), headers: { "content-length": String(data.length) } });
    const other = data.slice();
    other[data.length - 1]! ^= 1;
    expect(await errorCode(await fetch(s.url, { method: "PUT", headers: s.headers, body: other }))).toEqual({ status: 400, code: "XAmzContentSHA256Mismatch" });
    expect(await storedSize("literal/mismatch")).toBeLessThan(data.length);
    expect((await fetch(s.url, { method: "PUT", headers: s.headers, body: data })).status).toBe(200);
    expect(await storedSize("literal/mismatch")).toBe(data.length);
  });
});
