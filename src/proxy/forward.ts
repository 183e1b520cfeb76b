/**
 * Plain forwarding: send the client's operation to the backend, re-signed, and relay the
 * answer. Request bodies stream through; aws-chunked bodies are decoded to plain bytes
 * (with an exact Content-Length) so the backend stores the object, never the framing.
 */
import { decodeAwsChunkedStream, type ChunkObserver } from "../s3/aws-chunked.ts";
import { S3Error } from "../s3/errors.ts";
import type { S3Operation } from "../s3/operation.ts";
import { readXmlBody } from "../s3/xml-body.ts";
import type { UpstreamClient } from "../upstream/client.ts";
import { forwardedRequestHeaders, isAwsChunked } from "./request-headers.ts";

/** Presigned-URL parameters authenticate the client; the backend request is signed anew. */
const PRESIGN_PARAMS = new Set(["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"]);

/** Operations whose body is an XML document the backend parses. */
const XML_BODIES = new Set(["DeleteObjects", "CompleteMultipartUpload"]);

export interface ForwardInput {
  op: S3Operation;
  body: ReadableStream<Uint8Array> | null;
  signal?: AbortSignal;
  /** Sees every aws-chunked framing event (signature and checksum verification). */
  observeChunks?: ChunkObserver;
}

export function upstreamQuery(op: S3Operation) {
  return op.query.filter(([k]) => !PRESIGN_PARAMS.has(k));
}

export async function forward(upstream: UpstreamClient, input: ForwardInput): Promise<Response> {
  const { op } = input;
  const headers = forwardedRequestHeaders(op.headers);
  let body: ReadableStream<Uint8Array> | Uint8Array | null = null;
  if (input.body !== null && hasBody(op.headers)) {
    if (isAwsChunked(op.headers)) {
      const decoded = op.headers.get("x-amz-decoded-content-length");
      if (decoded === null || !/^\d+$/.test(decoded)) {
        throw new S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
      }
      headers.set("content-length", decoded);
      body = decodeAwsChunkedStream(input.body, input.observeChunks);
    } else {
      const length = op.headers.get("content-length");
      if (length === null) throw new S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
      headers.set("content-length", length);
      body = XML_BODIES.has(op.kind) ? await readXmlBody(input.body, Number(length)) : input.body;
    }
  }
  return upstream.send({ method: op.method, bucket: op.bucket, key: op.key, query: upstreamQuery(op), headers, body, signal: input.signal });
}

function hasBody(headers: Headers): boolean {
  const length = headers.get("content-length");
  return headers.has("transfer-encoding") || (length !== null && length !== "0");
}
