/**
 * Build a STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload the way the Java SDK and older JS SDKs
 * send one: the request is signed with the streaming payload marker (the seed signature),
 * then every chunk is signed over the previous signature.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, createHmac } from "node:crypto";
import { Sha256 } from "../../src/upstream/sha256.ts";

const EMPTY_SHA256 = createHash("sha256").digest("hex");
const enc = new TextEncoder();

export interface SignedChunkedUpload {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Length of the framed body for the given data and chunk size. */
function framedLength(size: number, chunkSize: number): number {
  const header = (n: number) => `${n.toString(16)};chunk-signature=`.length + 64 + 2;
  let total = 0;
  for (let left = size; left > 0; left -= chunkSize) {
    const n = Math.min(chunkSize, left);
    total += header(n) + n + 2;
  }
  return total + header(0) + 2;
}

export async function signedChunkedUpload(opts: { endpoint: string; bucket: string; key: string; data: Uint8Array; chunkSize: number; accessKeyId: string; secretAccessKey: string; region: string }): Promise<SignedChunkedUpload> {
  const url = new URL(`${opts.endpoint}/${opts.bucket}/${opts.key}`);
  const signingDate = new Date();
  const signer = new SignatureV4({ service: "s3", region: opts.region, sha256: Sha256, credentials: opts, uriEscapePath: false, applyChecksum: false });
  const signed = await signer.sign(
    {
      method: "PUT",
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: {
        host: url.host,
        "content-encoding": "aws-chunked",
        "content-length": String(framedLength(opts.data.length, opts.chunkSize)),
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-decoded-content-length": String(opts.data.length),
      },
    },
    { signingDate },
  );
  const headers = signed.headers as Record<string, string>;
  const amzDate = headers["x-amz-date"]!;
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${opts.region}/s3/aws4_request`;
  let key: Buffer = createHmac("sha256", `AWS4${opts.secretAccessKey}`).update(day).digest();
  for (const part of [opts.region, "s3", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  let previous = /Signature=([0-9a-f]{64})/.exec(headers.authorization!)![1]!;

  const parts: Uint8Array[] = [];
  const chunk = (data: Uint8Array) => {
    const stringToSign = ["AWS4-HMAC-SHA256-PAYLOAD", amzDate, scope, previous, EMPTY_SHA256, createHash("sha256").update(data).digest("hex")].join("\n");
    previous = createHmac("sha256", key).update(stringToSign).digest("hex");
    parts.push(enc.encode(`${data.length.toString(16)};chunk-signature=${previous}\r\n`), data, enc.encode("\r\n"));
  };
  for (let at = 0; at < opts.data.length; at += opts.chunkSize) chunk(opts.data.subarray(at, at + opts.chunkSize));
  chunk(new Uint8Array(0));
  const body = new Uint8Array(await new Blob(parts).arrayBuffer());
  if (body.length !== Number(headers["content-length"])) throw new Error("framed length mismatch");
  delete headers.host;
  return { url: url.href, headers, body };
}
