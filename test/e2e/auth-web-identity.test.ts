/**
 * `web-identity` mode: clients present an OIDC token (Bearer, or as their session token);
 * the proxy exchanges it at a loopback STS and signs upstream with the temporary keys.
 *   client ─▶ proxy A (web-identity) ─▶ proxy B (sigv4, knows only the STS-issued key) ─▶ s3rver
 * B proves A signed with the exchanged credentials, not with anything of its own.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { sha256Hex } from "../../src/auth/canonical.ts";
import { startBackend, type Backend } from "../support/backend.ts";
import { awsCli, boto3Roundtrip, curl, s3cmd, tempFile } from "../support/credentialed-clients.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { parquetBytes, polarsSumOfSquares } from "../support/polars.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";
import { fillsSettled } from "../support/prometheus.ts";
import { startSts, type TestSts } from "../support/sts.ts";

const ALICE = { accessKeyId: "ASIAALICE", secretAccessKey: "alice/sts+secret", sessionToken: "alice-session-token", subject: "alice" };
const BOB = { accessKeyId: "ASIABOB", secretAccessKey: "bob-sts-secret", sessionToken: "bob-session-token", subject: "bob" };
const ROLE = "arn:aws:iam::123456789012:role/analysts";
/** What a client holds: the token as its session token; its key pair is not checked. */
const asClient = (token: string) => ({ accessKeyId: "ANYKEY", secretAccessKey: "any-secret", sessionToken: token });
const SLOW = 30_000;

let backend: Backend;
let sts: TestSts;
let a: TestProxy;
let b: TestProxy;
let alice: S3Client;
let direct: S3Client;
let Bucket: string;

beforeAll(async () => {
  backend = await startBackend();
  Bucket = backend.bucket;
  sts = startSts({ "jwt-alice": ALICE, "jwt-bob": BOB, "jwt-bob-2": BOB });
  b = await startTestProxy(backend, { cache: false, "client-keys-inline": `${ALICE.accessKeyId}:${ALICE.secretAccessKey},${BOB.accessKeyId}:${BOB.secretAccessKey}` });
  a = await startTestProxy({ ...backend, endpoint: b.endpoint }, { cache: false, auth: "web-identity", "sts-endpoint": sts.endpoint, "role-arn": ROLE });
  alice = sdkClient(a.endpoint, { ...asClient("jwt-alice"), region: backend.region });
  direct = sdkClient(backend.endpoint, backend);
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await sts?.stop();
  await backend?.stop();
});

async function bytesOf(client: S3Client, Key: string): Promise<Uint8Array> {
  return (await client.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray();
}

describe("clients with a token", () => {
  test(
    "aws-sdk with the token as session token: put, get, multipart, streaming upload; one exchange for them all",
    async () => {
      const body = randomBytes(10_000, 50);
      await alice.send(new PutObjectCommand({ Bucket, Key: "wi/small ü.bin", Body: body }));
      expect(await bytesOf(alice, "wi/small ü.bin")).toEqual(body);
      expect(await bytesOf(direct, "wi/small ü.bin")).toEqual(body);

      const part = randomBytes(5 * 1024 * 1024, 51);
      const { UploadId } = await alice.send(new CreateMultipartUploadCommand({ Bucket, Key: "wi/multi" }));
      const { ETag } = await alice.send(new UploadPartCommand({ Bucket, Key: "wi/multi", UploadId, PartNumber: 1, Body: part }));
      await alice.send(new CompleteMultipartUploadCommand({ Bucket, Key: "wi/multi", UploadId, MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] } }));
      expect((await bytesOf(direct, "wi/multi")).length).toBe(part.length);

      const streamed = randomBytes(100_000, 52);
      await alice.send(new PutObjectCommand({ Bucket, Key: "wi/streamed", Body: Readable.from([streamed]), ContentLength: streamed.length }));
      expect(await bytesOf(direct, "wi/streamed")).toEqual(streamed);
      expect(sts.exchanges.get("jwt-alice")).toBe(1);
    },
    SLOW,
  );

  test("Authorization: Bearer <token> works without any SigV4", async () => {
    const res = await fetch(`${a.endpoint}/${Bucket}/wi/small%20%C3%BC.bin`, { headers: { authorization: "Bearer jwt-alice" } });
    expect(res.status).toBe(200);
    expect(sha256Hex(new Uint8Array(await res.arrayBuffer()))).toBe(sha256Hex(await bytesOf(direct, "wi/small ü.bin")));
  });

  test("a presigned URL carrying the token as X-Amz-Security-Token works", async () => {
    const url = await getSignedUrl(alice, new GetObjectCommand({ Bucket, Key: "wi/small ü.bin" }), { expiresIn: 300 });
    expect((await fetch(url)).status).toBe(200);
  });

  test("a rejected token gets 403 AccessDenied, a request without a token too", async () => {
    const forged = await fetch(`${a.endpoint}/${Bucket}/wi/small%20%C3%BC.bin`, { headers: { authorization: "Bearer forged" } });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("<Code>AccessDenied</Code>");
    expect((await fetch(`${a.endpoint}/${Bucket}/wi/small%20%C3%BC.bin`)).status).toBe(403);
  });

  test("concurrent requests with a new token make one exchange", async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => fetch(`${a.endpoint}/${Bucket}/wi/small%20%C3%BC.bin`, { headers: { authorization: "Bearer jwt-bob" } })));
    expect(answers.map((r) => r.status)).toEqual(Array(12).fill(200));
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    expect(sts.exchanges.get("jwt-bob")).toBe(1);
  });

  test(
    "awscli with the token as AWS_SESSION_TOKEN: s3 cp up and down",
    async () => {
      const data = randomBytes(2 * 1024 * 1024, 53);
      const up = tempFile(data);
      expect((await awsCli(a.endpoint, asClient("jwt-alice"), "s3", "cp", up, `s3://${Bucket}/wi/cli.bin`)).code).toBe(0);
      expect((await awsCli(a.endpoint, asClient("jwt-alice"), "s3", "cp", `s3://${Bucket}/wi/cli.bin`, `${up}.down`)).code).toBe(0);
      expect(sha256Hex(readFileSync(`${up}.down`))).toBe(sha256Hex(data));
    },
    SLOW,
  );

  test(
    "boto3 with the token as session token: put/get and a presigned URL fetched with curl",
    async () => {
      const data = randomBytes(30_000, 54);
      const r = await boto3Roundtrip(a.endpoint, asClient("jwt-bob-2"), Bucket, "wi/boto3.bin", tempFile(data));
      expect([r.code, r.stderr]).toEqual([0, ""]);
      const out = tempFile(new Uint8Array(0), "out");
      expect((await curl(r.stdout.trim(), out)).stdout).toBe("200");
      expect(sha256Hex(readFileSync(out))).toBe(sha256Hex(data));
    },
    SLOW,
  );

  test(
    "s3cmd with the token as access_token: put and get",
    async () => {
      const data = randomBytes(20_000, 55);
      expect((await s3cmd(a.endpoint, asClient("jwt-alice"), "put", tempFile(data), `s3://${Bucket}/wi/s3cmd.bin`)).code).toBe(0);
      const out = tempFile(new Uint8Array(0), "out");
      expect((await s3cmd(a.endpoint, asClient("jwt-alice"), "get", "--force", `s3://${Bucket}/wi/s3cmd.bin`, out)).code).toBe(0);
      expect(sha256Hex(readFileSync(out))).toBe(sha256Hex(data));
    },
    SLOW,
  );

  test(
    "nodejs-polars with the token as aws_session_token",
    async () => {
      await direct.send(new PutObjectCommand({ Bucket, Key: "wi/p.parquet", Body: parquetBytes(10) }));
      expect(await polarsSumOfSquares(a.endpoint, asClient("jwt-alice"), Bucket, "wi/p.parquet")).toBe(285);
    },
    SLOW,
  );
});

describe("the cache in web-identity mode is authorised per identity", () => {
  const CAROL = { accessKeyId: "ASIACAROL", secretAccessKey: "carol-secret", sessionToken: "carol-session", subject: "carol" };
  const MALLORY = { accessKeyId: "ASIAMALLORY", secretAccessKey: "mallory-secret", sessionToken: "mallory-session", subject: "mallory" };
  let cachedSts: TestSts;
  let gate: TestProxy;
  let cached: TestProxy;
  const object = randomBytes(300_000, 60);

  beforeAll(async () => {
    cachedSts = startSts({ "jwt-carol": CAROL, "jwt-mallory": MALLORY, "jwt-alice": ALICE });
    // The backend side: mallory's role may only use another bucket.
    gate = await startTestProxy(backend, { cache: false, "client-keys-inline": `${ALICE.accessKeyId}:${ALICE.secretAccessKey},${CAROL.accessKeyId}:${CAROL.secretAccessKey},${MALLORY.accessKeyId}:${MALLORY.secretAccessKey}:elsewhere` });
    cached = await startTestProxy({ ...backend, endpoint: gate.endpoint }, { auth: "web-identity", "sts-endpoint": cachedSts.endpoint, "role-arn": ROLE, "block-size": "64KiB", prefetch: false });
    await direct.send(new PutObjectCommand({ Bucket, Key: "wi/cached.bin", Body: object }));
  });

  afterAll(async () => {
    await cached?.stop();
    await gate?.stop();
    await cachedSts?.stop();
  });

  const read = (token: string) => fetch(`${cached.endpoint}/${Bucket}/wi/cached.bin`, { headers: { authorization: `Bearer ${token}`, range: "bytes=0-99999" } });

  test("an identity the backend refuses never gets cached bytes; allowed identities share them after their own check", async () => {
    const first = await read("jwt-alice");
    expect([first.status, first.headers.get("x-cache")]).toEqual([206, "MISS"]);
    expect(sha256Hex(new Uint8Array(await first.arrayBuffer()))).toBe(sha256Hex(object.subarray(0, 100_000)));
    await fillsSettled(cached.endpoint);

    const again = await read("jwt-alice");
    expect([again.status, again.headers.get("x-cache")]).toEqual([206, "HIT"]);
    await again.arrayBuffer();

    const refused = await read("jwt-mallory");
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain(String.fromCharCode(...object.subarray(0, 8)));
    const head = await fetch(`${cached.endpoint}/${Bucket}/wi/cached.bin`, { method: "HEAD", headers: { authorization: "Bearer jwt-mallory" } });
    expect(head.status).toBe(403);

    const other = await read("jwt-carol");
    expect([other.status, other.headers.get("x-cache")]).toEqual([206, "HIT"]);
    expect(sha256Hex(new Uint8Array(await other.arrayBuffer()))).toBe(sha256Hex(object.subarray(0, 100_000)));
  });
});
