/**
 * Known answers: requests signed by independent signers (AWS's documented examples, the
 * AWS SDK for JavaScript, botocore, the AWS CLI) must verify, and the same requests with one
 * byte changed must not. Real clients are pointed at a capturing server; every captured
 * request then goes through the proxy's authenticator with the clock pinned to its date.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Readable } from "node:stream";
import { EMPTY_SHA256 } from "../../src/auth/canonical.ts";
import { chunkSignatureVerifier } from "../../src/auth/chunk-signatures.ts";
import { deriveSigningKey } from "../../src/auth/signing-key.ts";
import { readClaim, verifySignature } from "../../src/auth/sigv4-verify.ts";
import { AwsChunkedDecoder } from "../../src/s3/aws-chunked.ts";
import { startCapture, type CaptureServer, type CapturedRequest } from "../support/capture.ts";
import { tamperPath, verifyCaptured } from "../support/verify-captured.ts";

const KEY = { accessKeyId: "AKIDKNOWNANSWER", secretAccessKey: "se/cr+et=with~odd chars" };
const AWKWARD_KEYS = ["with space.txt", "ünïcødé/日本.txt", "a+b=c~d.txt", "dir//double.txt", "(paren)!*'.txt"];

async function expectVerified(requests: CapturedRequest[]) {
  for (const r of requests) {
    expect({ url: r.url, verdict: await verifyCaptured(r, KEY) }).toEqual({ url: r.url, verdict: "ok" });
    expect({ url: r.url, tampered: await verifyCaptured(tamperPath(r), KEY) }).toEqual({ url: r.url, tampered: "SignatureDoesNotMatch" });
  }
}

describe("AWS documentation examples (examplebucket, 20130524)", () => {
  const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const signingKey = deriveSigningKey(secret, "20130524", "us-east-1", "s3");

  test("GET Object with a Range header verifies with the documented signature", () => {
    const req = {
      method: "GET",
      rawPath: "/test.txt",
      query: [],
      headers: new Headers({
        host: "examplebucket.s3.amazonaws.com",
        range: "bytes=0-9",
        "x-amz-content-sha256": EMPTY_SHA256,
        "x-amz-date": "20130524T000000Z",
        authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
      }),
    };
    expect(() => verifySignature(req, readClaim(req)!, signingKey)).not.toThrow();
    req.headers.set("range", "bytes=0-10");
    expect(() => verifySignature(req, readClaim(req)!, signingKey)).toThrow("signature we calculated");
  });

  test("presigned GET verifies with the documented signature", () => {
    const query: Array<[string, string]> = [
      ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
      ["X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"],
      ["X-Amz-Date", "20130524T000000Z"],
      ["X-Amz-Expires", "86400"],
      ["X-Amz-SignedHeaders", "host"],
      ["X-Amz-Signature", "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"],
    ];
    const req = { method: "GET", rawPath: "/test.txt", query, headers: new Headers({ host: "examplebucket.s3.amazonaws.com" }) };
    expect(() => verifySignature(req, readClaim(req)!, signingKey)).not.toThrow();
  });

  test("chunked PUT: seed signature and every chunk signature, final empty chunk included, verify", () => {
    const headers = new Headers({
      host: "s3.amazonaws.com",
      "x-amz-date": "20130524T000000Z",
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": "66560",
      "content-length": "66824",
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    });
    const req = { method: "PUT", rawPath: "/examplebucket/chunkObject.txt", query: [], headers };
    const claim = readClaim(req)!;
    verifySignature(req, claim, signingKey);
    const observe = chunkSignatureVerifier({ signingKey, amzDate: claim.amzDate, scope: claim.scope, seedSignature: claim.signature, signedTrailer: false });
    const enc = new TextEncoder();
    const body = [
      enc.encode("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"),
      new Uint8Array(65536).fill(97),
      enc.encode("\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n"),
      new Uint8Array(1024).fill(97),
      enc.encode("\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n"),
    ];
    expect(body.reduce((n, b) => n + b.length, 0)).toBe(66824);
    const decoder = new AwsChunkedDecoder();
    const events = body.flatMap((b) => decoder.push(b));
    for (const e of events) observe(e);
    expect(events.at(-1)).toEqual({ type: "end" });
  });
});

describe("requests signed by real clients", () => {
  let capture: CaptureServer;
  beforeAll(() => {
    capture = startCapture();
  });
  afterAll(async () => {
    await capture.stop();
  });

  function taken(from: number): CapturedRequest[] {
    return capture.requests.slice(from);
  }

  test("@aws-sdk/client-s3: awkward keys, range GET, empty prefix, aws-chunked upload with trailer, presigned URL", async () => {
    const from = capture.requests.length;
    const client = new S3Client({ endpoint: capture.endpoint, region: "us-east-1", forcePathStyle: true, credentials: KEY });
    for (const Key of AWKWARD_KEYS) await client.send(new PutObjectCommand({ Bucket: "b", Key, Body: new TextEncoder().encode(`hello ${Key}`) }));
    await client.send(new PutObjectCommand({ Bucket: "b", Key: "streamed ü", Body: Readable.from([Buffer.alloc(70_000, 1)]), ContentLength: 70_000 }));
    await client.send(new GetObjectCommand({ Bucket: "b", Key: AWKWARD_KEYS[1], Range: "bytes=0-9" }));
    await client.send(new ListObjectsV2Command({ Bucket: "b", Prefix: "" }));
    await client.send(new ListObjectsV2Command({ Bucket: "b", Prefix: "a b+c/ü", Delimiter: "/" }));
    await fetch(await getSignedUrl(client, new GetObjectCommand({ Bucket: "b", Key: AWKWARD_KEYS[4] }), { expiresIn: 600 }));
    const requests = taken(from);
    expect(requests.length).toBe(AWKWARD_KEYS.length + 5);
    expect(requests.some((r) => r.headers.some(([k, v]) => k === "x-amz-content-sha256" && v === "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))).toBe(true);
    await expectVerified(requests);
  }, 30_000);

  test("botocore (Debian python3-boto3): awkward keys, literal payload SHA-256, repeated and empty query parameters, presigned URL", async () => {
    const from = capture.requests.length;
    const proc = Bun.spawn(["/usr/bin/python3", `${import.meta.dir}/../support/boto3_requests.py`, capture.endpoint, KEY.accessKeyId, KEY.secretAccessKey, "b"], { stdout: "ignore", stderr: "pipe" });
    expect(await proc.exited).toBe(0);
    const requests = taken(from);
    expect(requests.length).toBe(AWKWARD_KEYS.length + 5);
    expect(requests.some((r) => r.url.includes("x=2&x=1&empty="))).toBe(true);
    await expectVerified(requests);
  }, 30_000);

  test("AWS CLI (Debian awscli): put-object with an awkward key, list with an awkward prefix, s3 presign", async () => {
    const from = capture.requests.length;
    const env = { ...process.env, AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey, AWS_DEFAULT_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" };
    const aws = async (...args: string[]) => {
      const proc = Bun.spawn(["/usr/bin/aws", "--endpoint-url", capture.endpoint, ...args], { env, stdout: "pipe", stderr: "ignore" });
      const out = await new Response(proc.stdout).text();
      await proc.exited;
      return out.trim();
    };
    await aws("s3api", "put-object", "--bucket", "b", "--key", "cli dir/ü+=~(x).txt", "--body", import.meta.path);
    await aws("s3api", "list-objects-v2", "--bucket", "b", "--prefix", "a b+c=", "--delimiter", "/");
    const url = await aws("s3", "presign", "s3://b/cli dir/ü+=~.txt", "--expires-in", "600");
    await fetch(url);
    const requests = taken(from);
    expect(requests.length).toBe(3);
    await expectVerified(requests);
  }, 30_000);
});
