/** Real S3 clients pointed at an endpoint. */
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import type { Backend } from "./backend.ts";

export function sdkClient(endpoint: string, backend: Pick<Backend, "accessKeyId" | "secretAccessKey" | "region"> & { sessionToken?: string }, extra: S3ClientConfig = {}): S3Client {
  return new S3Client({
    ...extra,
    endpoint,
    region: backend.region,
    forcePathStyle: true,
    credentials: { accessKeyId: backend.accessKeyId, secretAccessKey: backend.secretAccessKey, sessionToken: backend.sessionToken },
  });
}

/** Deterministic pseudo-random bytes, so failures reproduce. */
export function randomBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
