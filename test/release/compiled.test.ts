/**
 * The release binary itself, compiled once with the release's own flags (scripts/release-targets.ts)
 * for this machine: S3 traffic from the AWS SDK through it to a real backend, its command
 * line, and the Debian package built around it, installed with dpkg.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDeb } from "../../scripts/release-deb.ts";
import { buildInfo, compile, releaseMeta, TARGETS, type BuildInfo } from "../../scripts/release-targets.ts";
import { binaryFormat } from "../../scripts/release-verify.ts";
import { OPTIONS } from "../../src/options.ts";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { startRedisCluster } from "../support/redis-cluster.ts";
import { errorCodeOf, rawRequest } from "../support/raw-http.ts";

const HOST_TARGET = TARGETS.find((t) => t.name === `${process.platform}-${process.arch}`)!;

let dir: string;
let binary: string;
let info: BuildInfo;
let backend: Backend;
let proxy: RunningBinary;
let viaBinary: S3Client;
let direct: S3Client;

interface RunningBinary {
  endpoint: string;
  /** Everything it logged so far. */
  log: () => string;
  process: Bun.Subprocess<"ignore", "ignore", "pipe">;
}

function backendEnv(): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: backend.accessKeyId,
    AWS_SECRET_ACCESS_KEY: backend.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
}

/** Start the binary on a free port and wait for the line saying where it listens. */
async function startBinary(cwd: string, extraEnv: Record<string, string> = {}, extraArgs: string[] = []): Promise<RunningBinary> {
  const proc = Bun.spawn([binary, "--host", "127.0.0.1", "--port", "0", "--endpoint", backend.endpoint, "--region", backend.region, "--log-format", "json", ...extraArgs], {
    cwd,
    env: { ...backendEnv(), ...extraEnv },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  let log = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the binary exited with ${await proc.exited} before listening:\n${log}`);
    log += decoder.decode(value, { stream: true });
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(log);
    if (m) {
      // Keep reading: a closed pipe would kill the binary (SIGPIPE) at its next log line.
      void (async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read()) log += decoder.decode(r.value, { stream: true });
      })();
      return { endpoint: m[1]!, process: proc, log: () => log };
    }
  }
}

async function run(args: string[], cwd = dir) {
  const proc = Bun.spawn([binary, ...args], { cwd, env: backendEnv(), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, status };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "s3proxy-release-"));
  binary = join(dir, "s3proxy");
  info = await buildInfo();
  await compile(HOST_TARGET, binary, info);
  backend = await startBackend();
  proxy = await startBinary(dir);
  viaBinary = sdkClient(proxy.endpoint, backend);
  direct = sdkClient(backend.endpoint, backend);
  // Compiling takes a few seconds, more on a loaded machine.
}, 120_000);

afterAll(async () => {
  proxy?.process.kill();
  await proxy?.process.exited;
  await backend?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the compiled binary", () => {
  test("is an executable of this machine's format", async () => {
    expect(binaryFormat(await Bun.file(binary).slice(0, 64).bytes())).toBe(HOST_TARGET.format);
  });

  test("--version names the version and commit compiled in", async () => {
    const { stdout, status } = await run(["--version"]);
    expect(status).toBe(0);
    expect(stdout).toBe(`s3proxy ${info.version} (commit ${info.commit}, bun ${Bun.version}, ${HOST_TARGET.name})\n`);
  });

  test("--help lists every option", async () => {
    const { stdout, status } = await run(["--help"]);
    expect(status).toBe(0);
    for (const o of OPTIONS) expect(stdout).toContain(`--${o.flag}`);
  });

  test("bad configuration exits with status 2 and one line naming the option", async () => {
    const { stderr, status } = await run(["--port", "nope"]);
    expect(status).toBe(2);
    expect(stderr.trim().split("\n")).toEqual([expect.stringContaining("--port")]);
  });

  test("ignores a .env file in the directory it is started in", async () => {
    const cwd = join(dir, "with-dotenv");
    mkdirSync(cwd);
    // Autoloaded (a compile without --no-compile-autoload-dotenv), this ends the start-up with status 2.
    writeFileSync(join(cwd, ".env"), "LOG_LEVEL=bogus\n");
    const second = await startBinary(cwd);
    second.process.kill();
    await second.process.exited;
    expect(second.endpoint).toStartWith("http://127.0.0.1:");
  });

  test("a request without a Host, or with a malformed one, gets 400 S3 XML, never Bun's page of source and stack", async () => {
    const port = Number(new URL(proxy.endpoint).port);
    for (const request of ["GET /b/x HTTP/1.0\r\n\r\n", "GET /b/x HTTP/1.1\r\nHost: a b\r\n\r\n", "GET /b/x HTTP/1.1\r\nHost: [::1\r\n\r\n"]) {
      const { status, text } = await rawRequest(port, request);
      expect([status, errorCodeOf(text)]).toEqual([400, "InvalidArgument"]);
      for (const leak of ["handler.ts", "<html", "src/"]) expect(text).not.toContain(leak);
    }
  });

  test("put then get through it returns the bytes the backend stored", async () => {
    const Bucket = backend.bucket;
    const body = randomBytes(300_000, 7);
    await viaBinary.send(new PutObjectCommand({ Bucket, Key: "bin/whole.bin", Body: body, ContentType: "application/x-test" }));
    const stored = await direct.send(new GetObjectCommand({ Bucket, Key: "bin/whole.bin" }));
    expect(await stored.Body!.transformToByteArray()).toEqual(body);
    const got = await viaBinary.send(new GetObjectCommand({ Bucket, Key: "bin/whole.bin" }));
    expect(got.ContentType).toBe("application/x-test");
    expect(await got.Body!.transformToByteArray()).toEqual(body);
  });

  test.skipIf(Bun.which("redis-server") === null)(
    "with --redis-cluster it caches in a password-protected cluster (ioredis bundled), the password never logged",
    async () => {
      const password = "pw-never-in-logs-7f3a";
      const cluster = await startRedisCluster(3, "64mb", password);
      const cwd = mkdtempSync(join(tmpdir(), "bin-cluster-"));
      const running = await startBinary(cwd, { REDIS_PASSWORD: password }, ["--redis-cluster", cluster.seeds, "--log-level", "debug"]);
      try {
        const Bucket = backend.bucket;
        const body = randomBytes(3 * 1024 ** 2, 21);
        await direct.send(new PutObjectCommand({ Bucket, Key: "bin/clustered.bin", Body: body }));
        const client = sdkClient(running.endpoint, backend, { responseChecksumValidation: "WHEN_REQUIRED" });
        const got = await client.send(new GetObjectCommand({ Bucket, Key: "bin/clustered.bin", Range: "bytes=0-3145727" }));
        expect(await got.Body!.transformToByteArray()).toEqual(body);
        // The fill is written behind the answer: poll the masters, bounded, until its blocks are there.
        let keys = 0;
        for (let i = 0; i < 100 && keys < 3; i++) {
          keys = 0;
          for (let n = 0; n < 3; n++) keys += Number((await cluster.cli(n, ["DBSIZE"])).trim());
          if (keys < 3) await Bun.sleep(50);
        }
        expect(keys).toBeGreaterThanOrEqual(3);
        expect(running.log()).toContain("redis cluster tier");
        expect(running.log()).not.toContain(password);
      } finally {
        running.process.kill();
        await running.process.exited;
        await cluster.stop();
        rmSync(cwd, { recursive: true, force: true });
      }
    },
    60_000,
  );

  test("a range GET returns exactly the requested bytes with 206 and Content-Range", async () => {
    const Bucket = backend.bucket;
    const body = randomBytes(200_000, 8);
    await direct.send(new PutObjectCommand({ Bucket, Key: "bin/ranged.bin", Body: body }));
    const got = await viaBinary.send(new GetObjectCommand({ Bucket, Key: "bin/ranged.bin", Range: "bytes=65536-131071" }));
    expect(got.$metadata.httpStatusCode).toBe(206);
    expect(got.ContentRange).toBe("bytes 65536-131071/200000");
    expect(await got.Body!.transformToByteArray()).toEqual(body.slice(65536, 131072));
  });

  test("HEAD carries the backend's size, ETag and metadata", async () => {
    const Bucket = backend.bucket;
    await direct.send(new PutObjectCommand({ Bucket, Key: "bin/head.bin", Body: randomBytes(4321, 9), Metadata: { origin: "release-test" } }));
    const viaB = await viaBinary.send(new HeadObjectCommand({ Bucket, Key: "bin/head.bin" }));
    const viaD = await direct.send(new HeadObjectCommand({ Bucket, Key: "bin/head.bin" }));
    expect(viaB.ContentLength).toBe(4321);
    expect(viaB.ETag).toBe(viaD.ETag!);
    expect(viaB.Metadata).toEqual({ origin: "release-test" });
  });

  test("a listing through it names the same keys and sizes as the backend's", async () => {
    const Bucket = backend.bucket;
    for (const [i, Key] of ["bin/list/a", "bin/list/b/c", "bin/list/d"].entries()) {
      await viaBinary.send(new PutObjectCommand({ Bucket, Key, Body: randomBytes(100 + i, i) }));
    }
    const summary = (r: { Contents?: { Key?: string; Size?: number }[] }) => r.Contents?.map((c) => [c.Key, c.Size]);
    const viaB = await viaBinary.send(new ListObjectsV2Command({ Bucket, Prefix: "bin/list/" }));
    const viaD = await direct.send(new ListObjectsV2Command({ Bucket, Prefix: "bin/list/" }));
    expect(summary(viaB)).toEqual(summary(viaD));
    // Sorted here: s3rver does not list in key order.
    expect(summary(viaB)?.sort()).toEqual([
      ["bin/list/a", 100],
      ["bin/list/b/c", 101],
      ["bin/list/d", 102],
    ]);
  });
});

async function sh(cmd: string[]) {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, status, output: stdout + stderr };
}

/** dpkg, waiting its turn when another dpkg or apt on the machine holds the package database lock. */
async function dpkg(args: string[]) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const result = await sh(["dpkg", ...args]);
    if (result.status === 0 || !/lock/i.test(result.stderr) || Date.now() > deadline) return result;
    await Bun.sleep(500);
  }
}

/**
 * Run fn holding an exclusive flock(1) on a machine-wide file, so suites running at once on
 * one machine (every engineer here is root) take turns installing the package.
 */
async function exclusively<T>(fn: () => Promise<T>): Promise<T> {
  const holder = Bun.spawn(["flock", "/run/lock/s3proxy-deb-test.lock", "sh", "-c", "echo locked; exec cat"], { stdin: "pipe", stdout: "pipe" });
  await holder.stdout.getReader().read(); // "locked": the lock is ours until cat sees end of input
  try {
    return await fn();
  } finally {
    holder.stdin.end();
    await holder.exited;
  }
}

// Installing a package changes the machine: only as root, where that is expected (CI runs as root).
const canInstall = (process.env.CI !== undefined || process.getuid?.() === 0) && HOST_TARGET.arch === "amd64" && Bun.which("dpkg") !== null;

describe("the Debian package", () => {
  test.skipIf(!canInstall)(
    "installs a working s3proxy on PATH, with its unit, user and root-only environment file, and purges cleanly",
    async () => {
      const meta = releaseMeta(info, {});
      const deb = await buildDeb({ binary, arch: "amd64", info, outDir: dir, maintainer: meta.maintainer, homepage: meta.homepage, compression: "none" });
      const contents = (await sh(["dpkg-deb", "--contents", deb])).stdout;
      expect(contents).toMatch(/^-rwxr-xr-x root\/root .* \.\/usr\/bin\/s3proxy$/m);
      expect(contents).toMatch(/^-rw------- root\/root .* \.\/etc\/default\/s3proxy$/m);
      expect(contents).toMatch(/ \.\/lib\/systemd\/system\/s3proxy\.service$/m);

      await exclusively(async () => {
        // Never replace (and then purge) a package someone installed on this machine for real.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format
        const before = (await sh(["dpkg-query", "-W", "-f=${Status}", "s3proxy"])).stdout;
        if (before !== "" && !before.endsWith("not-installed")) throw new Error(`an s3proxy package is on this machine (${before}); not touching it`);

        // Triggers (man-db re-indexing, ~10 s each here) are run once at the end instead of twice.
        const install = await dpkg(["-i", "--no-triggers", deb]);
        try {
          expect(install.status, install.output).toBe(0);
          const version = await sh(["s3proxy", "--version"]);
          expect(version.stdout).toStartWith(`s3proxy ${info.version} (commit ${info.commit}`);
          expect(Bun.which("s3proxy")).toBe("/usr/bin/s3proxy");
          expect((await sh(["getent", "passwd", "s3proxy"])).stdout).toContain(":/nonexistent:");
          // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format
          expect((await sh(["dpkg-query", "-W", "-f=${Conffiles}", "s3proxy"])).stdout).toContain("/etc/default/s3proxy");
          if (Bun.which("systemd-analyze")) {
            const verify = await sh(["systemd-analyze", "verify", "/lib/systemd/system/s3proxy.service"]);
            expect(verify.status, verify.output).toBe(0);
          }
        } finally {
          const purge = await dpkg(["--purge", "--no-triggers", "s3proxy"]);
          await dpkg(["--triggers-only", "--pending"]);
          expect(purge.status, purge.output).toBe(0);
        }
      });
      expect(existsSync("/usr/bin/s3proxy")).toBe(false);
      expect(existsSync("/etc/default/s3proxy")).toBe(false);
    },
    120_000,
  );
});
