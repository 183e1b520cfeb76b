/**
 * Sign a request the way an AWS SDK does (@smithy/signature-v4, the JS SDK's own signer),
 * at a chosen time, so tests can build valid, skewed, expired or tampered requests.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../../src/upstream/sha256.ts";

export interface SignInput {
  method?: string;
  /** Full URL: the path must already be encoded the way it goes on the wire. */
  url: string;
  headers?: Record<string, string>;
  key: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region?: string;
  date?: Date;
  /** Presign for this many seconds instead of signing the headers. */
  presignSeconds?: number;
  /** x-amz-content-sha256 to sign (default UNSIGNED-PAYLOAD). */
  payloadHash?: string;
}

export interface SignedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

export async function sign(input: SignInput): Promise<SignedRequest> {
  const url = new URL(input.url);
  const signer = new SignatureV4({ service: "s3", region: input.region ?? "us-east-1", sha256: Sha256, credentials: input.key, uriEscapePath: false, applyChecksum: false });
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const headers: Record<string, string> = { host: url.host, ...input.headers };
  const method = input.method ?? "GET";
  const request = { method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers };
  if (input.presignSeconds !== undefined) {
    // As @aws-sdk/s3-request-presigner does: the signer reads the payload hash from this header.
    headers["X-Amz-Content-Sha256"] = "UNSIGNED-PAYLOAD";
    const signed = await signer.presign(request, { signingDate: input.date, expiresIn: input.presignSeconds });
    const qs = new URLSearchParams(signed.query as Record<string, string>).toString().replaceAll("+", "%20");
    return { url: `${url.origin}${url.pathname}?${qs}`, method, headers: {} };
  }
  headers["x-amz-content-sha256"] ??= input.payloadHash ?? "UNSIGNED-PAYLOAD";
  const signed = await signer.sign(request, { signingDate: input.date });
  const out = { ...(signed.headers as Record<string, string>) };
  delete out.host;
  return { url: input.url, method, headers: out };
}
