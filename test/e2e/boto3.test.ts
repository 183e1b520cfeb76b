/**
 * boto3 (Debian's python3-boto3, botocore's signer) through the proxy: put, get, ranged
 * get, head, multipart upload_fileobj and list, compared with the same script run directly
 * against the backend; then a presigned URL made by boto3 for the proxy, fetched with fetch().
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startBackend, type Backend } from "../support/backend.ts";
import { PYTHON, pythonClientEnv, run } from "../support/cli-clients.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

const SCRIPT = join(import.meta.dir, "../support/boto3-client.py");

let backend: Backend;
let proxy: TestProxy;
let env: Record<string, string>;

beforeAll(async () => {
  backend = await startBackend();
  proxy = await startTestProxy(backend, { cache: false });
  env = pythonClientEnv(backend);
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
  rmSync(env.HOME!, { recursive: true, force: true });
});

async function boto3(endpoint: string) {
  const r = await run([PYTHON, SCRIPT, endpoint, backend.bucket], env);
  if (r.code !== 0) throw new Error(`boto3 script failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("boto3 through the proxy", () => {
  test("put, get, range, head, multipart upload and list answer like the backend, and a presigned URL works", async () => {
    const viaProxy = await boto3(proxy.endpoint);
    expect(viaProxy.get.sha256).toBe(viaProxy.body_sha256);
    expect(viaProxy.get).toMatchObject({ length: 100_000, type: "application/x-boto", meta: { from: "boto3" } });
    expect(viaProxy.range).toEqual({ status: 206, content_range: "bytes 100-199/100000", ok: true });
    expect(viaProxy.head).toEqual({ length: 100_000, etag: viaProxy.put_etag, type: "application/x-boto", meta: { from: "boto3" } });
    expect(viaProxy.multipart.sha256).toBe(viaProxy.multipart.expected);

    // The same script straight at the backend (which overwrites the same keys with the same bytes).
    const direct = await boto3(backend.endpoint);
    for (const field of ["put_etag", "get", "range", "head", "multipart", "list"]) expect([field, viaProxy[field]]).toEqual([field, direct[field]]);

    const presigned = new URL(viaProxy.presigned);
    expect(presigned.origin).toBe(proxy.endpoint);
    expect(presigned.searchParams.has("X-Amz-Signature") || presigned.searchParams.has("Signature")).toBe(true);
    const res = await fetch(presigned);
    expect([res.status, res.status === 200 ? "" : await res.clone().text(), presigned.href]).toEqual([200, "", presigned.href]);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(new Bun.CryptoHasher("sha256").update(bytes).digest("hex")).toBe(viaProxy.body_sha256);
  });
});
