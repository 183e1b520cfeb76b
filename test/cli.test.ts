/** The command line as users meet it: `bun src/main.ts` spawned with real arguments. */
import { describe, expect, test } from "bun:test";
import { OPTIONS, shownDefault } from "../src/options.ts";
import { gitCommit, VERSION } from "../src/version.ts";
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
    ["negative port: what --port expects, not an unknown option", ["--port", "-1"], {}, "--port: expected a port number from 0 to 65535"],
    ["host that is no address", ["--host", "999.1.1.1"], {}, "--host"],
    ["host this machine does not have", ["--host", "192.0.2.1", "--port", "0", "--endpoint", "http://127.0.0.1:1"], { AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s" }, "--host: cannot listen on 192.0.2.1"],
    ["a block larger than the cache", ["--block-size", "3MiB", "--cache-size", "1MiB"], {}, "--block-size"],
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
    // Each option's entry: its flag line and the indented lines below it, joined.
    const entries = stdout.split(/\n(?= {2}-)/).map((e) => e.replace(/\s+/g, " "));
    for (const o of OPTIONS) {
      const entry = entries.find((e) => new RegExp(`--${o.flag}(,|\\s|$)`).test(e.split(" ").slice(0, 5).join(" ")));
      expect(entry, `--${o.flag}`).toBeDefined();
      for (const env of o.env) expect(entry).toContain(env);
      const shown = shownDefault(o);
      if (shown !== undefined) expect(entry).toContain(`[default: ${shown}]`);
    }
    expect(stdout).toContain("--version");
  });

  test("piped: no colour, and every line fits 80 columns", async () => {
    const { stdout } = await run(["--help"], { NO_COLOR: "" });
    expect(stdout).not.toContain("\x1b[");
    const widest = Math.max(...stdout.split("\n").map((l) => l.length));
    expect(widest).toBeLessThanOrEqual(80);
  });

  test("FORCE_COLOR colours it even when piped; NO_COLOR wins over FORCE_COLOR", async () => {
    expect((await run(["--help"], { NO_COLOR: "", FORCE_COLOR: "1" })).stdout).toContain("\x1b[1m");
    expect((await run(["--help"], { NO_COLOR: "1", FORCE_COLOR: "1" })).stdout).not.toContain("\x1b[");
  });

  test("-h is the same as --help", async () => {
    expect((await run(["-h"])).stdout).toBe((await run(["--help"])).stdout);
  });
});

describe("--version", () => {
  test("prints the version and, from a git checkout, the commit git names; exits 0", async () => {
    const { stdout, code } = await run(["--version"]);
    expect(code).toBe(0);
    expect(stdout).toStartWith(`s3proxy ${VERSION} (commit ${gitCommit(import.meta.dir)!.commit}, bun `);
    expect(stdout.trim().split("\n")).toHaveLength(1);
  });
});

describe("--cache-size 0", () => {
  test("starts with the cache off, and says so", async () => {
    const proxy = await spawnProxy(["--endpoint", "http://127.0.0.1:1", "--cache-size", "0"], { AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s" });
    try {
      expect(proxy.output()).toContain("cache: off (--cache-size 0)");
    } finally {
      await proxy.stop();
    }
  });
});

describe("s3proxy healthcheck", () => {
  test("exits 0 against a ready proxy, 1 once it is stopped", async () => {
    using backend = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(null, { status: 200 }) });
    const proxy = await spawnProxy(["--endpoint", `http://127.0.0.1:${backend.port}`, "--no-cache"], { AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s" });
    const url = `${proxy.endpoint}/_s3proxy/health/ready`;
    try {
      const ready = await run(["healthcheck", "--url", url]);
      expect([ready.code, ready.stdout.trim()]).toEqual([0, `s3proxy healthcheck: ready: ${url}`]);
    } finally {
      await proxy.stop();
    }
    const stopped = await run(["healthcheck", "--url", url]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr.trim().split("\n")).toHaveLength(1);
    expect(stopped.stderr).toStartWith(`s3proxy healthcheck: not ready: ${url}`);
  });

  test("exits 1 when the proxy answers 503 (backend unreachable)", async () => {
    const proxy = await spawnProxy(["--endpoint", "http://127.0.0.1:1", "--no-cache"], { AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s" });
    try {
      const { code, stderr } = await run(["healthcheck"], { PORT: new URL(proxy.endpoint).port });
      expect(code).toBe(1);
      expect(stderr).toContain("answered 503");
    } finally {
      await proxy.stop();
    }
  });

  test("an unknown option or a bad URL exits 2", async () => {
    expect((await run(["healthcheck", "--port", "1"])).code).toBe(2);
    expect((await run(["healthcheck", "--url", "not a url"])).code).toBe(2);
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
      const lines = proxy
        .output()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
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
