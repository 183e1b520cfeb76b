import { describe, expect, test } from "bun:test";
import { ConfigError, resolveConfig, type Env, type Flags } from "../src/config.ts";

function errorOf(flags: Flags, env: Env = {}): ConfigError {
  try {
    resolveConfig(flags, env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("defaults", () => {
  test("with nothing set: AWS us-east-1 endpoint, port 3000 on all interfaces, info, pretty", () => {
    const c = resolveConfig({}, {});
    expect(c.endpoint.href).toBe("https://s3.us-east-1.amazonaws.com/");
    expect([c.port, c.host, c.region, c.logLevel, c.logFormat]).toEqual([3000, "0.0.0.0", "us-east-1", "info", "pretty"]);
    expect(c.domains).toEqual([]);
  });
});

describe("precedence", () => {
  test("a flag beats the environment, which beats the default", () => {
    expect(resolveConfig({ port: "1" }, { PORT: "2" }).port).toBe(1);
    expect(resolveConfig({}, { PORT: "2" }).port).toBe(2);
    expect(resolveConfig({ host: "127.0.0.1" }, { HOST: "::1" }).host).toBe("127.0.0.1");
    expect(resolveConfig({}, { HOST: "::1" }).host).toBe("::1");
    expect(resolveConfig({ "log-format": "json" }, { LOG_FORMAT: "pretty" }).logFormat).toBe("json");
  });

  test("the access log's hit sample becomes one line per N hits: every hit by default, none at 0", () => {
    expect(resolveConfig({}, {}).accessLogHitsPerLine).toBe(1);
    expect(resolveConfig({ "access-log-sample": "0.1" }, {}).accessLogHitsPerLine).toBe(10);
    expect(resolveConfig({}, { ACCESS_LOG_SAMPLE: ".01" }).accessLogHitsPerLine).toBe(100);
    expect(resolveConfig({ "access-log-sample": "0.3" }, {}).accessLogHitsPerLine).toBe(3);
    expect(resolveConfig({ "access-log-sample": "0" }, {}).accessLogHitsPerLine).toBe(Infinity);
  });

  test("an empty environment variable counts as unset", () => {
    expect(resolveConfig({}, { PORT: "" }).port).toBe(3000);
  });

  test("region: flag, then AWS_REGION, then AWS_DEFAULT_REGION", () => {
    const env = { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-west-2" };
    expect(resolveConfig({ region: "ap-south-1" }, env).region).toBe("ap-south-1");
    expect(resolveConfig({}, env).region).toBe("eu-west-1");
    expect(resolveConfig({}, { AWS_DEFAULT_REGION: "eu-west-2" }).region).toBe("eu-west-2");
  });

  test("log level: flag, then LOG_LEVEL, then RUST_LOG", () => {
    expect(resolveConfig({ "log-level": "error" }, { LOG_LEVEL: "warn", RUST_LOG: "debug" }).logLevel).toBe("error");
    expect(resolveConfig({}, { LOG_LEVEL: "warn", RUST_LOG: "debug" }).logLevel).toBe("warn");
    expect(resolveConfig({}, { RUST_LOG: "s3proxy=debug" }).logLevel).toBe("debug");
  });

  test("domains are split on commas, trimmed and lower-cased", () => {
    expect(resolveConfig({ domain: " S3.Local , proxy.test,," }, {}).domains).toEqual(["s3.local", "proxy.test"]);
    expect(resolveConfig({}, { S3PROXY_DOMAIN: "a.test" }).domains).toEqual(["a.test"]);
  });
});

describe("endpoint fallbacks", () => {
  const all = { ENDPOINT: "http://a:1", AWS_ENDPOINT_URL_S3: "http://b:2", AWS_ENDPOINT_URL: "http://c:3" };

  test("the flag wins over every variable", () => {
    expect(resolveConfig({ endpoint: "http://flag:9" }, all).endpoint.host).toBe("flag:9");
  });

  test("ENDPOINT, then AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL", () => {
    expect(resolveConfig({}, all).endpoint.host).toBe("a:1");
    expect(resolveConfig({}, { ...all, ENDPOINT: undefined }).endpoint.host).toBe("b:2");
    expect(resolveConfig({}, { AWS_ENDPOINT_URL: "http://c:3" }).endpoint.host).toBe("c:3");
  });

  test("then the regional AWS endpoint of the configured region", () => {
    expect(resolveConfig({}, { AWS_REGION: "eu-central-1" }).endpoint.href).toBe("https://s3.eu-central-1.amazonaws.com/");
  });

  test("keeps a base path and port", () => {
    const c = resolveConfig({ endpoint: "https://gw.example.test:8443/s3/" }, {});
    expect([c.endpoint.host, c.endpoint.pathname]).toEqual(["gw.example.test:8443", "/s3/"]);
  });
});

describe("validation errors name the option", () => {
  const cases: Array<[string, Flags, Env, string]> = [
    ["unparseable endpoint", { endpoint: "not a url" }, {}, "--endpoint: not a URL"],
    ["endpoint from the environment", {}, { ENDPOINT: "::nope" }, "--endpoint: not a URL"],
    ["endpoint scheme", { endpoint: "ftp://host" }, {}, "--endpoint: must be http:// or https://"],
    ["endpoint with a query", { endpoint: "http://host/?x=1" }, {}, "--endpoint: must not carry"],
    ["endpoint with a fragment", { endpoint: "http://host/#f" }, {}, "--endpoint: must not carry"],
    ["endpoint with user info", { endpoint: "http://u:p@host/" }, {}, "--endpoint: must not carry"],
    ["endpoint with a password and no user name", { endpoint: "http://:secret@host/" }, {}, "--endpoint: must not carry"],
    ["port out of range", { port: "65536" }, {}, "--port: expected a port number from 0 to 65535"],
    ["port not a number", { port: "80a" }, {}, "--port: expected a port number from 0 to 65535"],
    ["negative port", {}, { PORT: "-1" }, "--port: expected a port number from 0 to 65535"],
    ["region", { region: "Not A Region" }, {}, "--region: not a region name"],
    ["unknown log level", { "log-level": "loud" }, {}, "--log-level: expected error, warn, info, debug or trace"],
    ["unknown RUST_LOG level", {}, { RUST_LOG: "s3proxy=chatty" }, "--log-level:"],
    ["log format", { "log-format": "xml" }, {}, "--log-format: expected pretty or json"],
    ["access log sample above 1", { "access-log-sample": "2" }, {}, "--access-log-sample: expected a share from 0 to 1"],
    ["access log sample not a number", {}, { ACCESS_LOG_SAMPLE: "1/10" }, "--access-log-sample: expected a share from 0 to 1"],
    ["cache size", { "cache-size": "lots" }, {}, "--cache-size: expected a size"],
    ["block size too small", { "block-size": "1KiB" }, {}, "--block-size: expected a size"],
    ["block size too large", { "block-size": "128MiB" }, {}, "--block-size: must be at most 64MiB"],
    ["max object size", { "max-object-size": "x" }, {}, "--max-object-size: expected a size"],
    ["meta ttl", { "meta-ttl": "soon" }, {}, "--meta-ttl: expected a duration"],
    ["negative ttl", { "negative-ttl": "1 fortnight" }, {}, "--negative-ttl: expected a duration"],
    ["boolean", {}, { CACHE: "maybe" }, "--cache: expected true or false"],
    ["host that only looks like an IPv4 address", { host: "999.1.1.1" }, {}, "--host: expected an IP address or host name"],
    ["host with spaces", {}, { HOST: "my host" }, "--host: expected an IP address or host name"],
    ["host IPv6 malformed", { host: "::1::2" }, {}, "--host: expected an IP address or host name"],
    ["a block larger than the cache", { "block-size": "3MiB", "cache-size": "1MiB" }, {}, "--block-size: 3MiB is larger than --cache-size 1MiB"],
    ["tls cert without key", { "tls-cert": "/etc/s3proxy/cert.pem" }, {}, "--tls-key: --tls-cert needs the key file too"],
    ["tls key without cert", {}, { TLS_KEY: "/etc/s3proxy/key.pem" }, "--tls-cert: --tls-key needs the certificate file too"],
  ];
  for (const [name, flags, env, message] of cases) {
    test(name, () => {
      const e = errorOf(flags, env);
      expect(e.message.startsWith(message)).toBe(true);
      expect(e.message).not.toContain("\n");
    });
  }
});

describe("cache tiers", () => {
  test("no tier below memory unless asked; --cache-dir, --disk-cache-size and --redis-url from flags or env", () => {
    const none = resolveConfig({}, {}).cache;
    expect([none.dir, none.redisUrl, none.diskSizeBytes]).toEqual([undefined, undefined, 10 * 1024 ** 3]);
    const set = resolveConfig({ "cache-dir": "/var/cache/s3proxy", "disk-cache-size": "2GiB" }, { REDIS_URL: "redis://cache:6379" }).cache;
    expect([set.dir, set.diskSizeBytes, set.redisUrl]).toEqual(["/var/cache/s3proxy", 2 * 1024 ** 3, "redis://cache:6379"]);
  });

  test("a --redis-url that is not redis:// or rediss:// and a tiny --disk-cache-size are refused by name", () => {
    expect(errorOf({ "redis-url": "http://cache:6379" }).option).toBe("redis-url");
    expect(errorOf({ "redis-url": "cache:6379" }).option).toBe("redis-url");
    expect(errorOf({ "disk-cache-size": "1KiB" }).option).toBe("disk-cache-size");
  });

  test("--redis-cluster takes seed nodes (env REDIS_CLUSTER), AUTH comes from the environment only", () => {
    const c = resolveConfig({}, { REDIS_CLUSTER: "rediss://r1:6380,rediss://r2:6380", REDIS_USERNAME: "proxy", REDIS_PASSWORD: "s3cret" }).cache;
    expect(c.redisCluster).toEqual({
      seeds: [
        { host: "r1", port: 6380 },
        { host: "r2", port: 6380 },
      ],
      tls: true,
    });
    expect(c.redisAuth).toEqual({ username: "proxy", password: "s3cret" });
    expect(resolveConfig({}, {}).cache.redisAuth).toEqual({ username: undefined, password: undefined });
  });

  test("a malformed --redis-cluster, or one given with --redis-url, is refused by name without echoing credentials", () => {
    expect(errorOf({ "redis-cluster": "r1" }).option).toBe("redis-cluster");
    expect(errorOf({ "redis-cluster": "r1:6379,rediss://r2:6379" }).option).toBe("redis-cluster");
    expect(errorOf({ "redis-cluster": "r1:6379", "redis-url": "redis://r1:6379" }).option).toBe("redis-cluster");
    expect(errorOf({ "redis-cluster": "redis://proxy:s3cret@r1:6379" }).message).not.toContain("s3cret");
  });
});

describe("what the cache options mean together", () => {
  test("--cache-size 0 turns the cache off, whatever --block-size says", () => {
    expect(resolveConfig({ "cache-size": "0", "block-size": "4MiB" }, {}).cache.enabled).toBe(false);
  });

  test("a block larger than the cache is accepted when the cache is off", () => {
    expect(resolveConfig({ cache: false, "block-size": "3MiB", "cache-size": "1MiB" }, {}).cache.enabled).toBe(false);
  });

  test("host names and IPv6 addresses are accepted", () => {
    for (const host of ["localhost", "0.0.0.0", "::", "::1", "s3proxy.internal", "10.0.0.255"]) expect(resolveConfig({ host }, {}).host).toBe(host);
  });
});

describe("tls", () => {
  test("plain HTTP unless both files are named, by flag or TLS_CERT/TLS_KEY", () => {
    expect(resolveConfig({}, {}).tls).toBeUndefined();
    expect(resolveConfig({ "tls-cert": "c.pem" }, { TLS_KEY: "k.pem" }).tls).toEqual({ certFile: "c.pem", keyFile: "k.pem" });
  });

  test("--allow-insecure-tokens is off unless given", () => {
    expect(resolveConfig({}, {}).auth.allowInsecureTokens).toBe(false);
    expect(resolveConfig({}, { ALLOW_INSECURE_TOKENS: "true" }).auth.allowInsecureTokens).toBe(true);
  });
});
