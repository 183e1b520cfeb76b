/** The command line as users meet it: `bun src/main.ts` spawned with real arguments. */
import { describe, expect, test } from "bun:test";
import { OPTIONS } from "../src/options.ts";
import { VERSION } from "../src/version.ts";
import { MAIN, spawnProxy } from "./support/spawn.ts";
import { createTestCa } from "./support/tls-certs.ts";

const BASE_ENV = { PATH: process.env.PATH ?? "", HOME: "/nonexistent", AWS_EC2_METADATA_DISABLED: "true", NO_COLOR: "1" };

async function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { env: { ...BASE_ENV, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("bad configuration exits 2 with exactly one line naming the option", () => {
  const cases: Array<[string, string[], Record<string, string>, string]> = [
    ["unparseable endpoint", ["--endpoint", "not a url"], {}, "--endpoint"],
    ["endpoint from ENDPOINT", [], { ENDPOINT: "ftp://x" }, "--endpoint"],
    ["port out of range", ["--port", "70000"], {}, "--port"],
    ["port from PORT", [], { PORT: "abc" }, "--port"],
    ["port without a value", ["--port"], {}, "--port"],
    ["unknown log level", ["--log-level", "loud"], {}, "--log-level"],
    ["unknown RUST_LOG", [], { RUST_LOG: "s3proxy=chatty" }, "--log-level"],
    ["log format", ["--log-format", "xml"], {}, "--log-format"],
    ["unknown option", ["--bogus", "1"], {}, "--bogus"],
    ["unreadable credentials file", ["--port", "0"], { AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials" }, "AWS_SHARED_CREDENTIALS_FILE"],
    ["unreadable config file", ["--port", "0"], { AWS_CONFIG_FILE: "/nonexistent/config" }, "AWS_CONFIG_FILE"],
  ];
  for (const [name, args, env, option] of cases) {
    test(name, async () => {
      const { stderr, code, stdout } = await run(args, env);
      expect(code).toBe(2);
      const lines = stderr.split("\n").filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]!.startsWith("s3proxy: ")).toBe(true);
      expect(lines[0]).toContain(option);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stdout).toBe("");
    });
  }

  test("a port already in use", async () => {
    using busy = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const { stderr, code } = await run(["--host", "127.0.0.1", "--port", String(busy.port), "--endpoint", "http://127.0.0.1:1"], { AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s" });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toEqual([`s3proxy: --port: 127.0.0.1:${busy.port} is already in use`]);
  });
});

describe("a TLS certificate that cannot be served exits 2 with one line naming the option", () => {
  test("missing, unreadable, mismatched, expired, half given", async () => {
    const ca = await createTestCa();
    try {
      const good = await ca.issue("good");
      const other = await ca.issue("other");
      const expired = await ca.issue("expired", { notBefore: "20200101000000Z", notAfter: "20200102000000Z" });
      const cases: Array<[string[], string]> = [
        [["--tls-cert", `${ca.dir}/absent.crt`, "--tls-key", good.keyFile], `--tls-cert: cannot read ${ca.dir}/absent.crt (ENOENT)`],
        // A directory stands for an unreadable file: the tests run as root, whom file modes do not stop.
        [["--tls-cert", good.certFile, "--tls-key", ca.dir], `--tls-key: cannot read ${ca.dir}`],
        [["--tls-cert", good.certFile, "--tls-key", other.keyFile], `--tls-key: ${other.keyFile}: does not match the certificate in --tls-cert`],
        [["--tls-cert", expired.certFile, "--tls-key", expired.keyFile], `--tls-cert: ${expired.certFile}: expired on 2020-01-02T00:00:00.000Z`],
        [["--tls-cert", good.keyFile, "--tls-key", good.keyFile], `--tls-cert: ${good.keyFile}: no PEM certificate`],
        [["--tls-cert", good.certFile], "--tls-key: --tls-cert needs the key file too"],
      ];
      for (const [args, message] of cases) {
        const { stderr, code, stdout } = await run(["--port", "0", "--auth", "none", "--endpoint", "http://127.0.0.1:1", ...args]);
        expect([code, stdout]).toEqual([2, ""]);
        expect(stderr.split("\n").filter(Boolean)).toEqual([expect.stringContaining(`s3proxy: ${message}`)]);
        expect(stderr).not.toContain("PRIVATE KEY");
      }
      using busy = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
      const taken = await run(["--host", "127.0.0.1", "--port", String(busy.port), "--auth", "none", "--endpoint", "http://127.0.0.1:1", "--tls-cert", good.certFile, "--tls-key", good.keyFile], { AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s" });
      expect([taken.code, taken.stderr.trim()]).toEqual([2, `s3proxy: --port: 127.0.0.1:${busy.port} is already in use`]);
    } finally {
      ca.remove();
    }
  });
});

describe("--help", () => {
  test("lists every option with its environment variables and default, and exits 0", async () => {
    const { stdout, code } = await run(["--help"]);
    expect(code).toBe(0);
    for (const o of OPTIONS) {
      const line = stdout.split("\n").find((l) => new RegExp(`--${o.flag}(=|\\s)`).test(l));
      expect(line, `--${o.flag}`).toBeDefined();
      for (const env of o.env) expect(line).toContain(env);
      if ("default" in o) expect(line).toContain(`[default: ${o.default}]`);
    }
    expect(stdout).toContain("--version");
  });

  test("-h is the same as --help", async () => {
    expect((await run(["-h"])).stdout).toBe((await run(["--help"])).stdout);
  });
});

describe("--version", () => {
  test("prints the version and exits 0", async () => {
    const { stdout, code } = await run(["--version"]);
    expect(code).toBe(0);
    expect(stdout).toStartWith(`s3proxy ${VERSION} (commit `);
    expect(stdout.trim().split("\n")).toHaveLength(1);
  });
});

describe("a good configuration", () => {
  test("starts, serves S3 errors for an unreachable backend, and logs one JSON line per request without secrets", async () => {
    const proxy = await spawnProxy(["--endpoint", "http://127.0.0.1:1", "--no-cache", "--log-format", "json"], { AWS_ACCESS_KEY_ID: "AKIDBACKEND", AWS_SECRET_ACCESS_KEY: "backend-secret-value" });
    try {
      const res = await fetch(`${proxy.endpoint}/bucket/some%20key?X-Amz-Signature=${"5".repeat(64)}&X-Amz-Credential=AKIDCLIENT%2F20240101`, {
        headers: { authorization: `AWS4-HMAC-SHA256 Credential=AKIDCLIENT/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${"7".repeat(64)}` },
      });
      expect(res.status).toBe(502);
      expect(await res.text()).toContain("<Code>BadGateway</Code>");
      for (let i = 0; i < 100 && !proxy.output().includes('"status":502'); i++) await Bun.sleep(10);
      const lines = proxy.output().trim().split("\n").map((l) => JSON.parse(l));
      const access = lines.filter((l) => l.status !== undefined);
      expect(access).toHaveLength(1);
      expect(access[0]).toMatchObject({ level: "info", msg: "GET /bucket/some%20key 502", bucket: "bucket", key: "some key", status: 502 });
      expect(typeof access[0].ms).toBe("number");
      expect(typeof access[0].requestId).toBe("string");
      for (const secret of ["backend-secret-value", "AKIDCLIENT", "5".repeat(64), "7".repeat(64), "Signature"]) expect(proxy.output()).not.toContain(secret);
    } finally {
      await proxy.stop();
    }
  });
});
