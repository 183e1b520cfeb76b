/**
 * The proxy's own TLS (--tls-cert/--tls-key), with a throw-away CA made by openssl: real
 * clients trusting only that CA do the core operations over https, the trailer-checksum
 * uploads SDKs send only over TLS arrive byte-exact at the backend, a SIGHUP swaps the
 * certificate under a download in flight, and plain HTTP to the TLS port fails cleanly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { Agent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { startBackend, type Backend } from "../support/backend.ts";
import { AWS_CLI, PYTHON, pythonClientEnv, run } from "../support/cli-clients.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { parquetBytes } from "../support/polars.ts";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";
import { spawnProxy } from "../support/spawned-proxy.ts";
import { createTestCa, type ServerCertificate, type TestCa } from "../support/tls-certs.ts";

let backend: Backend;
let ca: TestCa;
let cert: ServerCertificate;
let proxy: TestProxy;
let dir: string;
let env: Record<string, string>;
let caPem: string;

beforeAll(async () => {
  backend = await startBackend();
  ca = await createTestCa();
  // With the chain in the cert file, as a real intermediate bundle is deployed.
  cert = await ca.issue("proxy", { chain: true });
  caPem = await Bun.file(ca.caFile).text();
  proxy = await startTestProxy(backend, { "tls-cert": cert.certFile, "tls-key": cert.keyFile });
  dir = mkdtempSync(join(tmpdir(), "tls-e2e-"));
  env = pythonClientEnv(backend);
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.stop();
  ca?.remove();
  rmSync(dir, { recursive: true, force: true });
  if (env) rmSync(env.HOME!, { recursive: true, force: true });
});

const direct = () => sdkClient(backend.endpoint, backend);
async function stored(key: string): Promise<Uint8Array> {
  return new Uint8Array(await (await direct().send(new GetObjectCommand({ Bucket: backend.bucket, Key: key }))).Body!.transformToByteArray());
}

/** The SHA-256 fingerprint a new TLS connection to the port is shown, verified against the CA. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, ca: caPem }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on("error", reject);
  });
}

const fingerprintOf = async (file: string) => new X509Certificate(await Bun.file(file).text()).fingerprint256;

describe("real clients over https, trusting only the test CA", () => {
  test("the endpoint is https and serves the configured certificate", async () => {
    expect(proxy.endpoint).toStartWith("https://127.0.0.1:");
    expect(await servedFingerprint(proxy.server.port)).toBe(await fingerprintOf(cert.certFile));
  });

  test("curl --cacert: put, get, range, head, list, delete", async () => {
    const data = randomBytes(200_000, 7);
    const file = join(dir, "curl.bin");
    await Bun.write(file, data);
    const url = `${proxy.endpoint}/${backend.bucket}/curl/obj.bin`;
    const curl = async (...args: string[]) => {
      const r = await run(["curl", "--silent", "--show-error", "--fail", "--cacert", ca.caFile, ...args], { PATH: "/usr/bin:/bin" });
      if (r.code !== 0) throw new Error(`curl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    };
    await curl("-T", file, url);
    expect(await stored("curl/obj.bin")).toEqual(data);
    const out = join(dir, "curl-down.bin");
    await curl("-o", out, url);
    expect(await Bun.file(out).bytes()).toEqual(data);
    await curl("-o", out, "-r", "1000-1999", url);
    expect(await Bun.file(out).bytes()).toEqual(data.slice(1000, 2000));
    expect(await curl("-I", url)).toMatch(/content-length: 200000/i);
    expect(await curl(`${proxy.endpoint}/${backend.bucket}?list-type=2&prefix=curl/`)).toContain("<Key>curl/obj.bin</Key>");
    await curl("-X", "DELETE", url);
    await expect(direct().send(new HeadObjectCommand({ Bucket: backend.bucket, Key: "curl/obj.bin" }))).rejects.toThrow();
  });

  test("aws cli --ca-bundle: cp up and down, ls, head, ranged get, rm; put-object with CRC32 and SHA256 trailers stored byte-exact", async () => {
    const aws = async (...args: string[]) => {
      const r = await run([AWS_CLI, "--endpoint-url", proxy.endpoint, "--ca-bundle", ca.caFile, ...args], env);
      if (r.code !== 0) throw new Error(`aws ${args.join(" ")} exited ${r.code}: ${r.stderr.slice(-2000)}`);
      return r;
    };
    const data = randomBytes(9 * 1024 * 1024, 11);
    const src = join(dir, "cli.bin");
    await Bun.write(src, data);
    const s3url = `s3://${backend.bucket}/cli/obj.bin`;
    await aws("s3", "cp", "--only-show-errors", src, s3url);
    expect(await stored("cli/obj.bin")).toEqual(data);
    const dst = join(dir, "cli-down.bin");
    await aws("s3", "cp", "--only-show-errors", s3url, dst);
    expect(await Bun.file(dst).bytes()).toEqual(data);
    expect((await aws("s3", "ls", `s3://${backend.bucket}/cli/`)).stdout).toContain("obj.bin");
    expect(JSON.parse((await aws("s3api", "head-object", "--bucket", backend.bucket, "--key", "cli/obj.bin")).stdout).ContentLength).toBe(data.length);
    await aws("s3api", "get-object", "--bucket", backend.bucket, "--key", "cli/obj.bin", "--range", "bytes=5-104", dst);
    expect(await Bun.file(dst).bytes()).toEqual(data.slice(5, 105));
    for (const algorithm of ["CRC32", "SHA256"]) {
      const key = `cli/trailer-${algorithm}.bin`;
      const r = await aws("--debug", "s3api", "put-object", "--bucket", backend.bucket, "--key", key, "--body", src, "--checksum-algorithm", algorithm);
      // What botocore sent: its debug log prints the prepared request's headers.
      expect(r.stderr).toContain("'X-Amz-Content-SHA256': b'STREAMING-UNSIGNED-PAYLOAD-TRAILER'");
      expect(r.stderr).toContain(`'X-Amz-Trailer': b'x-amz-checksum-${algorithm.toLowerCase()}'`);
      expect(await stored(key)).toEqual(data);
    }
    await aws("s3", "rm", s3url);
    await expect(direct().send(new HeadObjectCommand({ Bucket: backend.bucket, Key: "cli/obj.bin" }))).rejects.toThrow();
  });

  test("boto3 verify=<ca>: put, get, range, head, list, delete; a CRC32 put framed with a trailer stored byte-exact", async () => {
    const r = await run([PYTHON, join(import.meta.dir, "../support/boto3_tls.py"), proxy.endpoint, backend.bucket, ca.caFile], env);
    if (r.code !== 0) throw new Error(`boto3 failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    expect(out.get_sha256).toBe(out.body_sha256);
    expect(out.range).toEqual({ content_range: "bytes 1000-1999/300000", ok: true });
    expect(out.head_length).toBe(300_000);
    expect(out.list).toEqual(["boto3-tls/crc32.bin", "boto3-tls/plain.bin"]);
    expect(out.after_delete).toEqual(["boto3-tls/crc32.bin"]);
    // Over https botocore sends plain bodies unsigned, and checksummed ones with a trailer.
    expect(out.payload_hashes).toEqual(["UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"]);
    expect(new Bun.CryptoHasher("sha256").update(await stored("boto3-tls/crc32.bin")).digest("hex")).toBe(out.body_sha256);
  });

  test("@aws-sdk/client-s3 with an https agent trusting the CA: put, streamed put with a trailer, get, range, head, list, delete", async () => {
    const s3: S3Client = sdkClient(proxy.endpoint, backend, { requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: caPem }) }) });
    const sent: string[] = [];
    s3.middlewareStack.add(
      (next) => async (args) => {
        sent.push(String((args.request as { headers: Record<string, string> }).headers["x-amz-content-sha256"]));
        return next(args);
      },
      { step: "finalizeRequest" },
    );
    const data = randomBytes(300_000, 13);
    const Bucket = backend.bucket;
    await s3.send(new PutObjectCommand({ Bucket, Key: "sdk/bytes.bin", Body: data }));
    await s3.send(new PutObjectCommand({ Bucket, Key: "sdk/stream.bin", Body: Readable.from([data.slice(0, 100_000), data.slice(100_000)]), ContentLength: data.length, ChecksumAlgorithm: "CRC32" }));
    expect(sent).toContain("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    expect(await stored("sdk/stream.bin")).toEqual(data);
    expect(await stored("sdk/bytes.bin")).toEqual(data);
    expect(new Uint8Array(await (await s3.send(new GetObjectCommand({ Bucket, Key: "sdk/stream.bin" }))).Body!.transformToByteArray())).toEqual(data);
    const ranged = await s3.send(new GetObjectCommand({ Bucket, Key: "sdk/stream.bin", Range: "bytes=299990-" }));
    expect(new Uint8Array(await ranged.Body!.transformToByteArray())).toEqual(data.slice(299_990));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "sdk/bytes.bin" }))).ContentLength).toBe(data.length);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "sdk/" }));
    expect(listed.Contents!.map((o) => o.Key).sort()).toEqual(["sdk/bytes.bin", "sdk/stream.bin"]);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "sdk/bytes.bin" }));
    await expect(direct().send(new HeadObjectCommand({ Bucket, Key: "sdk/bytes.bin" }))).rejects.toThrow();
  });

  test("nodejs-polars reads Parquet over https when SSL_CERT_FILE names the CA, and fails without it", async () => {
    await direct().send(new PutObjectCommand({ Bucket: backend.bucket, Key: "polars/squares.parquet", Body: parquetBytes(1000) }));
    const script = join(import.meta.dir, "../support/polars-over-https.ts");
    const args = [process.execPath, script, proxy.endpoint, backend.bucket, "polars/squares.parquet"];
    const trusted = await run(args, { PATH: process.env.PATH ?? "", SSL_CERT_FILE: ca.caFile });
    expect([trusted.code, trusted.stdout.trim()]).toEqual([0, String(Array.from({ length: 1000 }, (_, i) => i * i).reduce((a, b) => a + b))]);
    const untrusted = await run(args, { PATH: process.env.PATH ?? "" });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toContain("error sending request");
  });
});

describe("plain HTTP to the TLS port", () => {
  test("the connection is closed without an answer, curl fails, and https keeps working", async () => {
    const port = proxy.server.port;
    const { promise: closed, resolve } = Promise.withResolvers<string>();
    let received = "";
    await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (s) => void s.write(`GET /${backend.bucket}/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
        data: (_s, d) => void (received += Buffer.from(d).toString("latin1")),
        close: () => resolve(received),
        error: () => resolve(received),
      },
    });
    expect(await closed).not.toContain("HTTP/1.1");
    const r = await run(["curl", "--silent", `http://127.0.0.1:${port}/${backend.bucket}/x`], { PATH: "/usr/bin:/bin" });
    expect([52, 56]).toContain(r.code); // empty reply, or connection reset
    const res = await fetch(`${proxy.endpoint}/_s3proxy/health/live`, { tls: { ca: caPem } });
    expect([res.status, await res.text()]).toEqual([200, "ok\n"]);
  });

  test("a TLS port already taken fails as a plain one does", async () => {
    await expect(startTestProxy(backend, { port: String(proxy.server.port), "tls-cert": cert.certFile, "tls-key": cert.keyFile })).rejects.toThrow(`Is port ${proxy.server.port} in use?`);
  });
});

describe("certificate reload on SIGHUP", () => {
  test("a download in flight finishes, new connections get the new certificate, a bad file keeps it and logs one line", async () => {
    const body = randomBytes(8 * 1024 * 1024, 17);
    // A backend that sends the first MiB, then holds the rest until the test lets it go:
    // the download is in flight on the old socket for as long as the test needs.
    const { promise: holding, resolve: held } = Promise.withResolvers<void>();
    const { promise: release, resolve: letGo } = Promise.withResolvers<void>();
    using slow = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () =>
        new Response(
          new ReadableStream({
            async start(controller) {
              controller.enqueue(body.slice(0, 1024 * 1024));
              held();
              await release;
              controller.enqueue(body.slice(1024 * 1024));
              controller.close();
            },
          }),
          { headers: { "content-type": "application/octet-stream", etag: '"slow"' } },
        ),
    });
    const live = { certFile: join(dir, "live.crt"), keyFile: join(dir, "live.key") };
    copyFileSync(cert.certFile, live.certFile);
    copyFileSync(cert.keyFile, live.keyFile);
    const next = await ca.issue("proxy-renewed");
    const spawned = await spawnProxy({ ...backend, endpoint: slow.url.href.replace(/\/$/, "") }, ["--no-cache", "--tls-cert", live.certFile, "--tls-key", live.keyFile]);
    try {
      expect(spawned.endpoint).toStartWith("https://");
      expect(await servedFingerprint(spawned.port)).toBe(await fingerprintOf(cert.certFile));

      const download = fetch(`${spawned.endpoint}/${backend.bucket}/big.bin`, { tls: { ca: caPem } }).then(async (r) => new Uint8Array(await r.arrayBuffer()));
      await holding;

      copyFileSync(next.certFile, live.certFile);
      copyFileSync(next.keyFile, live.keyFile);
      spawned.proc.kill("SIGHUP");
      expect(await spawned.waitForLine(/TLS certificate reloaded/)).toContain(await fingerprintOf(next.certFile));
      expect(await servedFingerprint(spawned.port)).toBe(await fingerprintOf(next.certFile));
      expect((await fetch(`${spawned.endpoint}/_s3proxy/health/live`, { tls: { ca: caPem } })).status).toBe(200);

      letGo();
      expect(await download).toEqual(body);

      // A half-written rotation (a key that does not match) leaves the served certificate alone.
      copyFileSync(cert.keyFile, live.keyFile);
      spawned.proc.kill("SIGHUP");
      const refused = await spawned.waitForLine(/TLS certificate not reloaded/);
      expect(refused).toContain("--tls-key");
      expect(refused).toContain("does not match");
      expect(spawned.lines.filter((l) => l.includes("not reloaded"))).toHaveLength(1);
      expect(spawned.lines.join("\n")).not.toContain("PRIVATE KEY");
      expect(await servedFingerprint(spawned.port)).toBe(await fingerprintOf(next.certFile));
      expect((await fetch(`${spawned.endpoint}/_s3proxy/health/live`, { tls: { ca: caPem } })).status).toBe(200);
    } finally {
      letGo();
      spawned.proc.kill();
      await spawned.proc.exited;
    }
  });
});
