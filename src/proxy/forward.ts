/**
 * Plain forwarding: send the client's operation to the backend, re-signed, and relay the
 * answer. Request bodies stream through; aws-chunked bodies are decoded to plain bytes
 * (with an exact Content-Length) so the backend stores the object, never the framing, and
 * their trailing checksum is verified on the way.
 */
import { decodeAwsChunkedStream, decodedLengthCheck, type ChunkObserver } from "../s3/aws-chunked.ts";
import { trailingChecksumVerifier } from "../s3/checksum.ts";
import { formatCopySource } from "../s3/copy-source.ts";
import { S3Error } from "../s3/errors.ts";
import { PRESIGN_PARAMS, type S3Operation } from "../s3/operation.ts";
import { checkDeleteObjectsKeys, readXmlBody } from "../s3/xml-body.ts";
import type { UpstreamClient } from "../upstream/client.ts";
import type { Credentials } from "../upstream/credentials.ts";
import { forwardedRequestHeaders, isAwsChunked } from "./request-headers.ts";

/** Operations whose body is an XML document the backend parses. */
const XML_BODIES = new Set(["DeleteObjects", "CompleteMultipartUpload"]);

export interface ForwardInput {
  op: S3Operation;
  body: ReadableStream<Uint8Array> | null;
  signal?: AbortSignal;
  /** Sees every aws-chunked framing event (signature and checksum verification). */
  observeChunks?: ChunkObserver;
  /** Per-request backend credentials (web-identity); default: the proxy's own. */
  credentials?: Credentials;
}

/** Presigned-URL parameters authenticate the client; the backend request is signed anew. */
export function upstreamQuery(op: S3Operation) {
  return op.query.filter(([k]) => !PRESIGN_PARAMS.has(k));
}

export async function forward(upstream: UpstreamClient, input: ForwardInput): Promise<Response> {
  const { op } = input;
  const headers = forwardedRequestHeaders(op.headers);
  // The source as parsed and authorised, never the client's spelling of it.
  if (op.copySource !== undefined) headers.set("x-amz-copy-source", formatCopySource(op.copySource));
  let body: ReadableStream<Uint8Array> | Uint8Array | null = null;
  if (input.body !== null && hasBody(op.headers)) {
    if (isAwsChunked(op.headers)) {
      const decoded = op.headers.get("x-amz-decoded-content-length");
      if (decoded === null || !/^\d+$/.test(decoded)) {
        throw new S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
      }
      headers.set("content-length", decoded);
      body = decodeAwsChunkedStream(input.body, observeAll([decodedLengthCheck(Number(decoded)), trailingChecksumVerifier(op.headers.get("x-amz-trailer")), input.observeChunks]));
    } else {
      const length = op.headers.get("content-length");
      if (length === null) throw new S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
      headers.set("content-length", length);
      if (XML_BODIES.has(op.kind)) {
        const xml = await readXmlBody(input.body, Number(length));
        if (op.kind === "DeleteObjects") checkDeleteObjectsKeys(xml.doc);
        body = xml.bytes;
      } else body = input.body;
    }
  }
  return upstream.send({ method: op.method, bucket: op.bucket, key: op.key, query: upstreamQuery(op), headers, body, signal: input.signal, credentials: input.credentials });
}

function observeAll(observers: Array<ChunkObserver | undefined>): ChunkObserver | undefined {
  const present = observers.filter((o): o is ChunkObserver => o !== undefined);
  if (present.length <= 1) return present[0];
  return async (event) => {
    for (const observe of present) await observe(event);
  };
}

function hasBody(headers: Headers): boolean {
  const length = headers.get("content-length");
  return headers.has("transfer-encoding") || (length !== null && length !== "0");
}
