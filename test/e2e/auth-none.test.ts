/** `--auth none`: explicit opt-in, anything goes (unsigned requests and any signature). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { startBackend, type Backend } from "../support/backend.ts";
import { sdkClient } from "../support/clients.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

let backend: Backend;
let proxy: TestProxy;

beforeAll(async () => {
  backend = await startBackend();
  proxy = await startTestProxy(backend, { cache: false, auth: "none" });
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
});

test("unsigned requests are forwarded, signed upstream with the proxy's key", async () => {
  const url = `${proxy.endpoint}/${backend.bucket}/none/plain.txt`;
  expect((await fetch(url, { method: "PUT", body: "anonymous" })).status).toBe(200);
  const res = await fetch(url);
  expect([res.status, await res.text()]).toEqual([200, "anonymous"]);
});

test("a client signing with any key is served too", async () => {
  const any = sdkClient(proxy.endpoint, { accessKeyId: "WHOEVER", secretAccessKey: "whatever", region: "us-east-1" });
  const res = await any.send(new GetObjectCommand({ Bucket: backend.bucket, Key: "none/plain.txt" }));
  expect(await res.Body!.transformToString()).toBe("anonymous");
});
