/**
 * Debian's aws cli (v2, botocore) through the proxy, compared with the same command run
 * directly against the backend. A 20 MiB file makes `aws s3 cp` upload in parallel
 * multipart parts (8 MiB each) and download in parallel ranged GETs. Over https, with the
 * trailing-checksum uploads it sends only there, in tls.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBackend, type Backend } from "../support/backend.ts";
import { AWS_CLI, pythonClientEnv, run } from "../support/cli-clients.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

let backend: Backend;
let proxy: TestProxy;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  backend = await startBackend();
  proxy = await startTestProxy(backend, { cache: false });
  dir = mkdtempSync(join(tmpdir(), "awscli-"));
  env = pythonClientEnv(backend);
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(env.HOME!, { recursive: true, force: true });
});

async function aws(endpoint: string, ...args: string[]) {
  const r = await run([AWS_CLI, "--endpoint-url", endpoint, ...args], env);
  if (r.code !== 0) throw new Error(`aws ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const KEY = "cli dir/twenty ü+%.bin";

describe("aws cli through the proxy", () => {
  test("s3 cp uploads a 20 MiB file in multipart parts and downloads it byte-exact", async () => {
    const data = randomBytes(20 * 1024 * 1024, 42);
    const src = join(dir, "up.bin");
    await Bun.write(src, data);
    await aws(proxy.endpoint, "s3", "cp", "--only-show-errors", src, `s3://${backend.bucket}/${KEY}`);
    const stored = await sdkClient(backend.endpoint, backend).send(new GetObjectCommand({ Bucket: backend.bucket, Key: KEY }));
    expect(await stored.Body!.transformToByteArray()).toEqual(data);

    const dst = join(dir, "down.bin");
    await aws(proxy.endpoint, "s3", "cp", "--only-show-errors", `s3://${backend.bucket}/${KEY}`, dst);
    expect((await Bun.file(dst).bytes()) as Uint8Array).toEqual(data);
  });

  test("s3 ls lists the same objects as against the backend", async () => {
    for (const k of ["ls/a.txt", "ls/b c.txt", "ls/sub/d.txt"]) await sdkClient(backend.endpoint, backend).send(new PutObjectCommand({ Bucket: backend.bucket, Key: k, Body: k }));
    const viaProxy = await aws(proxy.endpoint, "s3", "ls", `s3://${backend.bucket}/ls/`);
    expect(viaProxy).toBe(await aws(backend.endpoint, "s3", "ls", `s3://${backend.bucket}/ls/`));
    expect(viaProxy).toContain("b c.txt");
    expect(viaProxy).toContain("PRE sub/");
    const recursive = await aws(proxy.endpoint, "s3", "ls", "--recursive", `s3://${backend.bucket}/ls/`);
    expect(
      recursive
        .split("\n")
        .filter(Boolean)
        .map((l) => l.slice(31))
        .sort(),
    ).toEqual(["ls/a.txt", "ls/b c.txt", "ls/sub/d.txt"]);
  });

  test("s3api head-object answers what the backend answers", async () => {
    await sdkClient(backend.endpoint, backend).send(new PutObjectCommand({ Bucket: backend.bucket, Key: "head me.bin", Body: randomBytes(4321), ContentType: "application/x-thing", Metadata: { origin: "test" } }));
    const args = ["s3api", "head-object", "--bucket", backend.bucket, "--key", "head me.bin"];
    const viaProxy = JSON.parse(await aws(proxy.endpoint, ...args));
    expect(viaProxy).toEqual(JSON.parse(await aws(backend.endpoint, ...args)));
    expect(viaProxy).toMatchObject({ ContentLength: 4321, ContentType: "application/x-thing", Metadata: { origin: "test" } });
  });

  test("s3api head-object of a missing key fails with 404 as against the backend", async () => {
    const r = await run([AWS_CLI, "--endpoint-url", proxy.endpoint, "s3api", "head-object", "--bucket", backend.bucket, "--key", "missing"], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("404");
  });

  test("s3 rm deletes the object from the backend", async () => {
    await sdkClient(backend.endpoint, backend).send(new PutObjectCommand({ Bucket: backend.bucket, Key: "rm me.txt", Body: "x" }));
    expect(await aws(proxy.endpoint, "s3", "rm", `s3://${backend.bucket}/rm me.txt`)).toContain("delete: ");
    await expect(sdkClient(backend.endpoint, backend).send(new HeadObjectCommand({ Bucket: backend.bucket, Key: "rm me.txt" }))).rejects.toThrow();
  });
});
