/**
 * Path-style and virtual-hosted-style addressing through a real listening proxy started
 * with --domain: both name the same objects on the backend, which is always addressed
 * path-style.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

let backend: Backend;
let proxy: TestProxy;

beforeAll(async () => {
  backend = await startBackend();
  proxy = await startTestProxy(backend, { cache: false, domain: "s3.proxy.test" });
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
});

/** A request to the proxy naming the bucket in the Host header, as virtual-hosted clients do. */
function vhost(path: string, init: RequestInit = {}) {
  return fetch(`${proxy.endpoint}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), host: `${backend.bucket}.s3.proxy.test:${proxy.server.port}` } });
}

describe("virtual-hosted-style requests (--domain)", () => {
  test("a PUT to bucket.<domain>/key stores the object under that bucket and key", async () => {
    const body = randomBytes(5000, 61);
    const put = await vhost("/vhost/put%20me+.bin", { method: "PUT", body, headers: { "content-type": "application/x-vhost" } });
    expect(put.status).toBe(200);
    const stored = await sdkClient(backend.endpoint, backend).send(new GetObjectCommand({ Bucket: backend.bucket, Key: "vhost/put me+.bin" }));
    expect(stored.ContentType).toBe("application/x-vhost");
    expect(new Uint8Array(await stored.Body!.transformToByteArray())).toEqual(body);
  });

  test("GET, HEAD and list answer exactly as the path-style request does", async () => {
    const body = randomBytes(3000, 62);
    await sdkClient(backend.endpoint, backend).send(new PutObjectCommand({ Bucket: backend.bucket, Key: "vhost/get.bin", Body: body }));
    const viaHost = await vhost("/vhost/get.bin");
    const viaPath = await fetch(`${proxy.endpoint}/${backend.bucket}/vhost/get.bin`);
    expect(viaHost.status).toBe(200);
    expect(viaHost.headers.get("etag")).toBe(viaPath.headers.get("etag"));
    expect(new Uint8Array(await viaHost.arrayBuffer())).toEqual(new Uint8Array(await viaPath.arrayBuffer()));

    const head = await vhost("/vhost/get.bin", { method: "HEAD" });
    expect([head.status, head.headers.get("content-length")]).toEqual([200, "3000"]);

    const listHost = await (await vhost("/?list-type=2&prefix=vhost%2F")).text();
    const listPath = await (await fetch(`${proxy.endpoint}/${backend.bucket}?list-type=2&prefix=vhost%2F`)).text();
    expect(listHost).toContain("<Key>vhost/get.bin</Key>");
    expect(listHost.replace(/<LastModified>[^<]*<\/LastModified>/g, "")).toBe(listPath.replace(/<LastModified>[^<]*<\/LastModified>/g, ""));
  });

  test("a host outside the configured domain is read path-style", async () => {
    const res = await fetch(`${proxy.endpoint}/${backend.bucket}/vhost/get.bin`, { headers: { host: `elsewhere.test:${proxy.server.port}` } });
    expect(res.status).toBe(200);
  });
});

describe("requests the proxy refuses itself", () => {
  test("a key whose %2F-encoded segments include '..' is 400 InvalidRequest with the S3 error document", async () => {
    const res = await fetch(`${proxy.endpoint}/${backend.bucket}/a%2F..%2Fb`);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/xml");
    expect(res.headers.get("x-amz-request-id")).toMatch(/^[0-9A-F]{16}$/);
    const text = await res.text();
    expect(text).toContain("<Code>InvalidRequest</Code>");
    expect(text).toContain(`<RequestId>${res.headers.get("x-amz-request-id")}</RequestId>`);
  });

  test("malformed percent-encoding is 400 InvalidURI; on HEAD the same status comes without a body", async () => {
    const get = await fetch(`${proxy.endpoint}/${backend.bucket}/bad%zz`);
    expect(get.status).toBe(400);
    expect(await get.text()).toContain("<Code>InvalidURI</Code>");
    const head = await fetch(`${proxy.endpoint}/${backend.bucket}/bad%zz`, { method: "HEAD" });
    expect(head.status).toBe(400);
    expect(await head.text()).toBe("");
  });

  test("an unreachable backend is 502 with an S3 error document", async () => {
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const endpoint = `http://127.0.0.1:${dead.port}`;
    dead.stop(true);
    const orphan = await startTestProxy({ ...backend, endpoint }, { cache: false });
    try {
      const res = await fetch(`${orphan.endpoint}/${backend.bucket}/k`);
      expect(res.status).toBe(502);
      expect(await res.text()).toContain("<Code>BadGateway</Code>");
    } finally {
      await orphan.stop();
    }
  });
});
