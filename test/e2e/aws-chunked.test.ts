/**
 * aws-chunked uploads through the proxy: the AWS SDK's default streaming upload
 * (STREAMING-UNSIGNED-PAYLOAD-TRAILER with a trailing CRC32, sent chunked without a
 * Content-Length) and signed-chunk uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). The
 * backend must store exactly the object's bytes, never the framing, and must never receive
 * a complete body when the framing is broken or cut short.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import { startBackend, type Backend } from "../support/backend.ts";
import { signedChunkedUpload } from "../support/aws-chunked-signer.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

let backend: Backend;
let proxy: TestProxy;
let viaProxy: S3Client;
let direct: S3Client;

beforeAll(async () => {
  backend = await startBackend();
  proxy = await startTestProxy(backend, { cache: false });
  viaProxy = sdkClient(proxy.endpoint, backend);
  direct = sdkClient(backend.endpoint, backend);
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
});

async function stored(Key: string): Promise<Uint8Array> {
  const res = await direct.send(new GetObjectCommand({ Bucket: backend.bucket, Key }));
  return new Uint8Array(await res.Body!.transformToByteArray());
}

/** A Node stream body: the SDK then frames it as aws-chunked with a trailing checksum. */
function streamBody(data: Uint8Array, pieces = 7): Readable {
  const size = Math.ceil(data.length / pieces);
  return Readable.from(Array.from({ length: pieces }, (_, i) => data.subarray(i * size, (i + 1) * size)));
}

describe("aws-chunked uploads through the proxy", () => {
  test("the SDK's default streaming PutObject (unsigned chunks + trailing CRC32) stores exactly the input", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17, 21);
    const Key = "chunked/sdk stream.bin";
    await viaProxy.send(new PutObjectCommand({ Bucket: backend.bucket, Key, Body: streamBody(data), ContentLength: data.length }));
    const bytes = await stored(Key);
    expect(bytes.length).toBe(data.length);
    expect(bytes).toEqual(data);
  });

  test("a streaming PutObject with a trailing SHA256 (verified by the proxy) stores exactly the input", async () => {
    const data = randomBytes(1024 * 1024 + 3, 22);
    const Key = "chunked/sha256.bin";
    await viaProxy.send(new PutObjectCommand({ Bucket: backend.bucket, Key, Body: streamBody(data), ContentLength: data.length, ChecksumAlgorithm: "SHA256" }));
    expect(await stored(Key)).toEqual(data);
  });

  test("streaming UploadPart bodies assemble into exactly the input", async () => {
    const parts = [randomBytes(5 * 1024 * 1024, 31), randomBytes(5 * 1024 * 1024, 32), randomBytes(999, 33)];
    const Key = "chunked/multipart.bin";
    const { UploadId } = await viaProxy.send(new CreateMultipartUploadCommand({ Bucket: backend.bucket, Key }));
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const r = await viaProxy.send(new UploadPartCommand({ Bucket: backend.bucket, Key, UploadId, PartNumber: i + 1, Body: streamBody(part, 3), ContentLength: part.length }));
      etags.push(r.ETag!);
    }
    await viaProxy.send(new CompleteMultipartUploadCommand({ Bucket: backend.bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    expect(await stored(Key)).toEqual(new Uint8Array(await new Blob(parts).arrayBuffer()));
  });

  test("an empty streaming upload stores an empty object", async () => {
    await viaProxy.send(new PutObjectCommand({ Bucket: backend.bucket, Key: "chunked/empty", Body: Readable.from([]), ContentLength: 0 }));
    expect((await stored("chunked/empty")).length).toBe(0);
  });

  test("a signed-chunk upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) stores exactly the input", async () => {
    const data = randomBytes(200_000, 41);
    const Key = "chunked/signed chunks.bin";
    const upload = await signedChunkedUpload({ ...backend, endpoint: proxy.endpoint, bucket: backend.bucket, key: encodeURIComponent(Key).replaceAll("%2F", "/"), data, chunkSize: 64 * 1024 });
    const res = await fetch(upload.url, { method: "PUT", headers: upload.headers, body: upload.body });
    expect(res.status).toBe(200);
    expect(await stored(Key)).toEqual(data);
  });

  // s3rver stores whatever arrived when an upload is cut off (a 10-byte object for a PUT
  // that declared 100), so these two check the wire instead: a strict stand-in backend
  // records whether the body it received was complete. Real S3 discards incomplete bodies.
  describe("broken bodies never reach the backend whole", () => {
    let seen: Array<{ complete: boolean; length?: number }>;
    let strict: ReturnType<typeof Bun.serve>;
    let strictProxy: TestProxy;
    beforeAll(async () => {
      seen = [];
      strict = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        async fetch(req) {
          try {
            seen.push({ complete: true, length: (await req.bytes()).length });
          } catch {
            seen.push({ complete: false });
          }
          return new Response(null);
        },
      });
      strictProxy = await startTestProxy({ ...backend, endpoint: `http://127.0.0.1:${strict.port}` }, { cache: false });
    });
    afterAll(async () => {
      await strictProxy.stop();
      strict.stop(true);
    });

    async function settled() {
      for (let i = 0; i < 100 && seen.length === 0; i++) await Bun.sleep(10);
      return seen.splice(0);
    }

    test("a body cut short is aborted upstream and answered 400 IncompleteBody", async () => {
      const data = randomBytes(100_000, 51);
      const upload = await signedChunkedUpload({ ...backend, endpoint: strictProxy.endpoint, bucket: backend.bucket, key: "chunked/truncated", data, chunkSize: 32 * 1024 });
      // Without the final zero-size chunk: the framing ends early.
      const cut = upload.body.subarray(0, upload.body.length - 90);
      const { "content-length": _, ...headers } = upload.headers;
      const res = await fetch(upload.url, { method: "PUT", headers, body: new Blob([cut]).stream() });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("<Code>IncompleteBody</Code>");
      expect(await settled()).toEqual([{ complete: false }]);
    });

    test("broken framing is aborted upstream and answered 400", async () => {
      const res = await fetch(`${strictProxy.endpoint}/${backend.bucket}/chunked/broken`, {
        method: "PUT",
        headers: { "content-encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-decoded-content-length": "16" },
        body: "10\r\nonly-six\r\n0\r\n\r\n",
      });
      expect(res.status).toBe(400);
      expect(await settled()).toEqual([{ complete: false }]);
    });

    async function putChunked(key: string, body: string, headers: Record<string, string>) {
      return fetch(`${strictProxy.endpoint}/${backend.bucket}/${key}`, {
        method: "PUT",
        headers: { "content-encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", ...headers },
        body,
      });
    }

    test("a trailing CRC32 that does not match the bytes is aborted upstream and answered 400 BadDigest", async () => {
      const res = await putChunked("chunked/bad-crc", "8\r\nonly-six\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", { "x-amz-decoded-content-length": "8", "x-amz-trailer": "x-amz-checksum-crc32" });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("<Code>BadDigest</Code>");
      expect(await settled()).toEqual([{ complete: false }]);
    });

    test("fewer bytes than x-amz-decoded-content-length is 400 IncompleteBody, more is 400 InvalidRequest, and neither reaches the backend whole", async () => {
      const short = await putChunked("chunked/short", "8\r\nonly-six\r\n0\r\n\r\n", { "x-amz-decoded-content-length": "20" });
      expect([short.status, (await short.text()).includes("<Code>IncompleteBody</Code>")]).toEqual([400, true]);
      expect(await settled()).toEqual([{ complete: false }]);
      const long = await putChunked("chunked/long", "8\r\nonly-six\r\n0\r\n\r\n", { "x-amz-decoded-content-length": "4" });
      expect([long.status, (await long.text()).includes("<Code>InvalidRequest</Code>")]).toEqual([400, true]);
      const seen = await settled();
      // The backend may not have been reached at all: it must never see a complete body.
      expect(seen.filter((s) => s.complete)).toEqual([]);
    });

    test("a well-formed body arrives complete at the stand-in (the check above can tell)", async () => {
      const res = await fetch(`${strictProxy.endpoint}/${backend.bucket}/chunked/fine`, {
        method: "PUT",
        headers: { "content-encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-decoded-content-length": "8" },
        body: "8\r\nonly-six\r\n0\r\n\r\n",
      });
      expect(res.status).toBe(200);
      expect(await settled()).toEqual([{ complete: true, length: 8 }]);
    });
  });

  test("an aws-chunked upload without x-amz-decoded-content-length is 411 MissingContentLength", async () => {
    const res = await fetch(`${proxy.endpoint}/${backend.bucket}/chunked/nolength`, {
      method: "PUT",
      headers: { "content-encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER" },
      body: "0\r\n\r\n",
    });
    expect(res.status).toBe(411);
    expect(await res.text()).toContain("<Code>MissingContentLength</Code>");
  });
});
