/**
 * Run a captured request through the proxy's own authenticator (sigv4 mode, one key) with
 * the clock pinned to the request's signing time, body included: the verdict the proxy
 * would give. Returns "ok" or the S3 error code.
 */
import { createAuthenticator } from "../../src/auth/authenticate.ts";
import { parseAmzDate } from "../../src/auth/sigv4-verify.ts";
import { decodeAwsChunkedStream } from "../../src/s3/aws-chunked.ts";
import { S3Error } from "../../src/s3/errors.ts";
import { parseOperation } from "../../src/s3/operation.ts";
import { isAwsChunked } from "../../src/proxy/request-headers.ts";
import type { CapturedRequest } from "./capture.ts";

export interface Key {
  accessKeyId: string;
  secretAccessKey: string;
}

function signingTime(c: CapturedRequest): number {
  const headers = new Headers(c.headers);
  const text = headers.get("x-amz-date") ?? new URL(c.url).searchParams.get("X-Amz-Date");
  return parseAmzDate(text ?? "")?.getTime() ?? Date.now();
}

export async function verifyCaptured(c: CapturedRequest, key: Key, regions: string[] = ["us-east-1"]): Promise<string> {
  const authenticate = createAuthenticator({
    mode: "sigv4",
    regions,
    lookupKey: async (id) => (id === key.accessKeyId ? { secretAccessKey: key.secretAccessKey } : undefined),
    now: () => signingTime(c),
  });
  const hasBody = c.method !== "GET" && c.method !== "HEAD";
  const req = new Request(c.url, { method: c.method, headers: c.headers, body: hasBody ? c.body : undefined });
  try {
    const op = parseOperation(req.method, new URL(req.url), req.headers, { domains: [] });
    const auth = await authenticate(op, req);
    if (auth.body) {
      const body = isAwsChunked(req.headers) ? decodeAwsChunkedStream(auth.body, auth.observeChunks) : auth.body;
      await new Response(body).arrayBuffer();
    }
    return "ok";
  } catch (err) {
    if (err instanceof S3Error) return err.code;
    throw err;
  }
}

/** The same request with one byte added to its path: a verifier that accepts it proves nothing. */
export function tamperPath(c: CapturedRequest): CapturedRequest {
  const url = new URL(c.url);
  url.pathname += "x";
  return { ...c, url: url.href };
}
