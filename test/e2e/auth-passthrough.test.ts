/**
 * `passthrough` mode, and a chained check of the proxy's own outbound signing:
 *   client ─▶ proxy A (sigv4, client key; signs upstream with the backend key)
 *          ─▶ proxy B (passthrough: verifies with that same backend key) ─▶ s3rver.
 * s3rver checks no signature, so B is the verifier: every core operation must pass A's
 * re-signing and B's verification. Real clients then use B directly with the backend key,
 * as a single user on a workstation would.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { sha256Hex } from "../../src/auth/canonical.ts";
import { startBackend, type Backend } from "../support/backend.ts";
import { awsCli, boto3Roundtrip, curl, s3cmd, tempFile } from "../support/credentialed-clients.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { parquetBytes, polarsSumOfSquares } from "../support/polars.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

const CLIENT = { accessKeyId: "AKIDCHAINCLIENT", secretAccessKey: "chain/client+secret" };
const SLOW = 30_000;

let backend: Backend;
let b: TestProxy;
let a: TestProxy;
let viaChain: S3Client;
let direct: S3Client;
let Bucket: string;

beforeAll(async () => {
  backend = await startBackend();
  Bucket = backend.bucket;
  b = await startTestProxy(backend, { cache: false, auth: undefined }); // the mode the proxy picks by itself
  a = await startTestProxy({ ...backend, endpoint: b.endpoint }, { cache: false, "client-keys-inline": `${CLIENT.accessKeyId}:${CLIENT.secretAccessKey}` });
  viaChain = sdkClient(a.endpoint, { ...CLIENT, region: backend.region });
  direct = sdkClient(backend.endpoint, backend);
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await backend?.stop();
});

async function bytesOf(client: S3Client, Key: string, Range?: string): Promise<Uint8Array> {
  return (await client.send(new GetObjectCommand({ Bucket, Key, Range }))).Body!.transformToByteArray();
}

test("with backend credentials and no client keys the proxy defaults to passthrough, and B really verifies", async () => {
  expect([a.authMode, b.authMode]).toEqual(["sigv4", "passthrough"]);
  const wrong = sdkClient(b.endpoint, { ...backend, secretAccessKey: "not-the-backend-secret" });
  const err = await wrong.send(new HeadObjectCommand({ Bucket, Key: "x" })).catch((e) => e);
  expect(err.$metadata.httpStatusCode).toBe(403);
  const stranger = await sdkClient(b.endpoint, { ...CLIENT, region: backend.region })
    .send(new ListObjectsV2Command({ Bucket }))
    .catch((e) => e);
  expect(stranger.name).toBe("InvalidAccessKeyId");
});

describe("core operations through A (re-signing) and B (verifying)", () => {
  const keys = ["plain.bin", "with space.bin", "plus+sign=eq~tilde.bin", "percent%25.bin", "unicodé/日本語.bin", "(paren)!*'.bin"];

  test(
    "put, get, range get and head for awkward keys",
    async () => {
      for (const [i, Key] of keys.entries()) {
        const body = randomBytes(5000 + i, i + 20);
        await viaChain.send(new PutObjectCommand({ Bucket, Key, Body: body, Metadata: { via: "chain" } }));
        expect(await bytesOf(direct, Key)).toEqual(body);
        expect(await bytesOf(viaChain, Key)).toEqual(body);
        expect(await bytesOf(viaChain, Key, "bytes=100-199")).toEqual(body.subarray(100, 200));
        const head = await viaChain.send(new HeadObjectCommand({ Bucket, Key }));
        expect([head.ContentLength, head.Metadata]).toEqual([body.length, { via: "chain" }]);
      }
    },
    SLOW,
  );

  test(
    "streaming upload with the SDK's default checksums (aws-chunked with trailer)",
    async () => {
      const body = randomBytes(150_000, 30);
      await viaChain.send(new PutObjectCommand({ Bucket, Key: "streamed.bin", Body: Readable.from([body]), ContentLength: body.length }));
      expect(await bytesOf(direct, "streamed.bin")).toEqual(body);
    },
    SLOW,
  );

  test(
    "list v1 and v2 with a prefix that needs encoding",
    async () => {
      for (const i of [1, 2, 3]) await direct.send(new PutObjectCommand({ Bucket, Key: `list dir+/${i}.txt`, Body: "x" }));
      const v2 = await viaChain.send(new ListObjectsV2Command({ Bucket, Prefix: "list dir+/" }));
      expect(v2.Contents?.map((c) => c.Key).sort()).toEqual(["list dir+/1.txt", "list dir+/2.txt", "list dir+/3.txt"]);
      const v1 = await viaChain.send(new ListObjectsCommand({ Bucket, Prefix: "list dir+/", Delimiter: "/" }));
      expect(v1.Contents?.length).toBe(3);
    },
    SLOW,
  );

  test(
    "multipart upload",
    async () => {
      const Key = "multi part.bin";
      const parts = [randomBytes(5 * 1024 * 1024, 31), randomBytes(777, 32)];
      const { UploadId } = await viaChain.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      const etags: string[] = [];
      for (const [i, Body] of parts.entries()) etags.push((await viaChain.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }))).ETag!);
      await viaChain.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
      expect((await bytesOf(direct, Key)).length).toBe(parts[0]!.length + parts[1]!.length);
    },
    SLOW,
  );

  test(
    "copy object and delete objects",
    async () => {
      for (const Key of ["with space.bin", "plain.bin"]) await direct.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
      await viaChain.send(new CopyObjectCommand({ Bucket, Key: "copied ü.bin", CopySource: `${Bucket}/${encodeURIComponent("with space.bin")}` }));
      expect(await bytesOf(direct, "copied ü.bin")).toEqual(await bytesOf(direct, "with space.bin"));
      const del = await viaChain.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: "copied ü.bin" }, { Key: "plain.bin" }] } }));
      expect(del.Deleted?.map((d) => d.Key).sort()).toEqual(["copied ü.bin", "plain.bin"]);
    },
    SLOW,
  );

  test(
    "presigned GET made for A",
    async () => {
      await direct.send(new PutObjectCommand({ Bucket, Key: "unicodé/日本語.bin", Body: randomBytes(3000, 33) }));
      const url = await getSignedUrl(viaChain, new GetObjectCommand({ Bucket, Key: "unicodé/日本語.bin" }), { expiresIn: 300 });
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(sha256Hex(new Uint8Array(await res.arrayBuffer()))).toBe(sha256Hex(await bytesOf(direct, "unicodé/日本語.bin")));
    },
    SLOW,
  );
});

describe("real clients in passthrough mode, with the backend's own key", () => {
  const key = () => ({ accessKeyId: backend.accessKeyId, secretAccessKey: backend.secretAccessKey });

  test(
    "awscli: s3 cp up and down",
    async () => {
      const data = randomBytes(3 * 1024 * 1024, 40);
      const up = tempFile(data);
      expect((await awsCli(b.endpoint, key(), "s3", "cp", up, `s3://${Bucket}/cli/up.bin`)).code).toBe(0);
      expect((await awsCli(b.endpoint, key(), "s3", "cp", `s3://${Bucket}/cli/up.bin`, `${up}.down`)).code).toBe(0);
      expect(sha256Hex(readFileSync(`${up}.down`))).toBe(sha256Hex(data));
    },
    SLOW,
  );

  test(
    "boto3 put/get and a presigned URL fetched with curl",
    async () => {
      const data = randomBytes(40_000, 41);
      const r = await boto3Roundtrip(b.endpoint, key(), Bucket, "boto3/passthrough.bin", tempFile(data));
      expect([r.code, r.stderr]).toEqual([0, ""]);
      const out = tempFile(new Uint8Array(0), "out");
      expect((await curl(r.stdout.trim(), out)).stdout).toBe("200");
      expect(sha256Hex(readFileSync(out))).toBe(sha256Hex(data));
    },
    SLOW,
  );

  test(
    "s3cmd put and get",
    async () => {
      const data = randomBytes(20_000, 42);
      expect((await s3cmd(b.endpoint, key(), "put", tempFile(data), `s3://${Bucket}/s3cmd/p.bin`)).code).toBe(0);
      const out = tempFile(new Uint8Array(0), "out");
      expect((await s3cmd(b.endpoint, key(), "get", "--force", `s3://${Bucket}/s3cmd/p.bin`, out)).code).toBe(0);
      expect(sha256Hex(readFileSync(out))).toBe(sha256Hex(data));
    },
    SLOW,
  );

  test(
    "nodejs-polars scanParquet",
    async () => {
      await direct.send(new PutObjectCommand({ Bucket, Key: "polars/p.parquet", Body: parquetBytes(100) }));
      expect(await polarsSumOfSquares(b.endpoint, key(), Bucket, "polars/p.parquet")).toBe(328350);
    },
    SLOW,
  );
});
