import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, resolveConfig, type Env, type Flags } from "../src/config.ts";
import { parseConfigFile, withConfigFile } from "../src/config-file.ts";
import { OPTIONS } from "../src/options.ts";

function resolve(toml: string, flags: Flags = {}, env: Env = {}) {
  return resolveConfig(withConfigFile(flags, env, parseConfigFile(toml, "s3proxy.toml")), env);
}

describe("config file precedence: flag > env > file > default", () => {
  const file = 'port = 4000\nregion = "eu-west-1"\n';
  test("the default applies when nothing sets the option", () => {
    expect(resolve("").port).toBe(3000);
  });
  test("the file beats the default", () => {
    expect(resolve(file).port).toBe(4000);
    expect(resolve(file).region).toBe("eu-west-1");
  });
  test("the environment beats the file", () => {
    expect(resolve(file, {}, { PORT: "5000" }).port).toBe(5000);
    // Any of an option's variables counts, not only the first.
    expect(resolve(file, {}, { AWS_DEFAULT_REGION: "ap-south-1" }).region).toBe("ap-south-1");
  });
  test("an empty environment variable counts as unset, as everywhere else", () => {
    expect(resolve(file, {}, { PORT: "" }).port).toBe(4000);
  });
  test("a flag beats everything", () => {
    expect(resolve(file, { port: "6000" }, { PORT: "5000" }).port).toBe(6000);
  });
  test("a boolean flag set to false (--no-prefetch) beats the file's true", () => {
    expect(resolve("prefetch = true", { prefetch: false }).cache.prefetch).toBe(false);
  });
});

describe("parseConfigFile", () => {
  test("takes every option by its flag name, with TOML strings, numbers, booleans and lists", () => {
    const c = resolve(
      [
        'endpoint = "http://127.0.0.1:9000"',
        'host = "127.0.0.1"',
        "port = 8080",
        'domain = ["s3.example", "s3.internal"]',
        'log-format = "json"',
        'cache-size = "1GiB"',
        "prefetch = false",
        'meta-ttl = "5m"',
        "metrics-port = 9100",
        'metrics-path = "/metrics"',
        'shutdown-timeout = "10s"',
      ].join("\n"),
    );
    expect(c.endpoint.href).toBe("http://127.0.0.1:9000/");
    expect(c.port).toBe(8080);
    expect(c.domains).toEqual(["s3.example", "s3.internal"]);
    expect(c.logFormat).toBe("json");
    expect(c.cache.sizeBytes).toBe(1024 ** 3);
    expect(c.cache.prefetch).toBe(false);
    expect(c.cache.metaTtlMs).toBe(300_000);
    expect(c.ops).toEqual({ metricsPort: 9100, metricsPath: "/metrics", shutdownTimeoutMs: 10_000 });
  });

  test("every option in the table except --config itself can be set in the file", () => {
    for (const o of OPTIONS.filter((o) => o.flag !== "config")) {
      const value = o.type === "boolean" ? "true" : '"x"';
      expect(() => parseConfigFile(`${o.flag} = ${value}`, "f.toml")).not.toThrow();
    }
  });

  test("an unknown key is an error naming the key", () => {
    expect(() => parseConfigFile('port = 1\ncache_size = "1GiB"', "/etc/s3proxy.toml")).toThrow('--config: /etc/s3proxy.toml: unknown option "cache_size"');
    expect(() => parseConfigFile("[server]\nport = 3000", "f.toml")).toThrow('unknown option "server"');
    expect(() => parseConfigFile('config = "other.toml"', "f.toml")).toThrow('unknown option "config"');
  });

  test("a value of the wrong type is an error naming the key", () => {
    expect(() => parseConfigFile('prefetch = "maybe"', "f.toml")).toThrow('option "prefetch" expects true or false');
    expect(() => parseConfigFile("port = true", "f.toml")).toThrow('option "port" expects a string or number');
  });

  test("a file that is not TOML is an error naming the file", () => {
    const err = (() => {
      try {
        parseConfigFile("port = = 3", "bad.toml");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toStartWith("--config: bad.toml: not valid TOML");
  });
});

describe("s3proxy --config (the CLI)", () => {
  const dir = mkdtempSync(join(tmpdir(), "s3proxy-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(args: string[], env: Record<string, string> = {}) {
    const proc = Bun.spawn(["bun", "src/main.ts", ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    return { code, stderr };
  }

  test("exits 2 naming an unknown key", async () => {
    const path = join(dir, "unknown.toml");
    writeFileSync(path, 'port = 3000\nlisten = "0.0.0.0"\n');
    const { code, stderr } = await run(["--config", path]);
    expect(code).toBe(2);
    expect(stderr).toBe(`s3proxy: --config: ${path}: unknown option "listen"\n`);
  });

  test("exits 2 for a file that cannot be read, also when named by S3PROXY_CONFIG", async () => {
    const { code, stderr } = await run([], { S3PROXY_CONFIG: join(dir, "missing.toml") });
    expect(code).toBe(2);
    expect(stderr).toContain("--config: cannot read");
  });

  test("values from the file are validated like flags (exit 2 naming the option)", async () => {
    const path = join(dir, "bad-value.toml");
    writeFileSync(path, 'cache-size = "lots"\n');
    const { code, stderr } = await run(["--config", path]);
    expect(code).toBe(2);
    expect(stderr).toBe('s3proxy: --cache-size: expected a size such as 512MiB, got "lots"\n');
  });
});
