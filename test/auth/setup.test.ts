/** Choosing and configuring the auth mode from flags, environment and what credentials exist. */
import { describe, expect, test } from "bun:test";
import { createConsola, type LogObject } from "consola";
import { setupClientAuth, type BackendCredentials } from "../../src/auth/setup.ts";
import { ConfigError, resolveConfig, type Env, type Flags } from "../../src/config.ts";
import { renderError, S3Error } from "../../src/s3/errors.ts";
import { parseOperation } from "../../src/s3/operation.ts";
import { tempFile } from "../support/credentialed-clients.ts";

const WITH_BACKEND: BackendCredentials = { provider: async () => ({ accessKeyId: "B", secretAccessKey: "b" }), source: "environment" };
const WITHOUT_BACKEND: BackendCredentials = { provider: async () => undefined, source: "none" };

function logger() {
  const lines: LogObject[] = [];
  return { log: createConsola({ level: 5, reporters: [{ log: (e) => lines.push(e) }] }), lines };
}

async function modeFor(flags: Flags, env: Env, backend: BackendCredentials, host = "127.0.0.1") {
  const auth = await setupClientAuth(resolveConfig(flags, env).auth, backend, { host, tls: false }, logger().log);
  auth.close();
  return auth.mode;
}

describe("auth configuration", () => {
  test("client keys make sigv4 the default, backend credentials alone make passthrough", async () => {
    expect(await modeFor({}, { CLIENT_KEYS: "A:s" }, WITH_BACKEND)).toBe("sigv4");
    expect(await modeFor({}, {}, WITH_BACKEND)).toBe("passthrough");
  });

  test("with neither keys nor backend credentials the proxy refuses to start unless --auth none is given", async () => {
    await expect(modeFor({}, {}, WITHOUT_BACKEND)).rejects.toThrow(ConfigError);
    expect(await modeFor({ auth: "none" }, {}, WITHOUT_BACKEND)).toBe("none");
  });

  test("--auth none on a non-loopback address logs a warning at start-up, on loopback it does not", async () => {
    for (const [host, warned] of [
      ["0.0.0.0", true],
      ["127.0.0.1", false],
    ] as const) {
      const { log, lines } = logger();
      (await setupClientAuth(resolveConfig({ auth: "none" }, {}).auth, WITHOUT_BACKEND, { host, tls: false }, log)).close();
      expect(lines.some((l) => l.type === "warn")).toBe(warned);
    }
  });

  test("AUTH_MODE selects the mode; bad values and incomplete modes name the option", () => {
    expect(resolveConfig({}, { AUTH_MODE: "none" }).auth.mode).toBe("none");
    expect(() => resolveConfig({ auth: "kerberos" }, {})).toThrow("--auth");
    expect(() => resolveConfig({ auth: "sigv4" }, {})).toThrow("--auth: sigv4 needs client keys");
    expect(() => resolveConfig({ auth: "web-identity" }, {})).toThrow("--role-arn");
    expect(() => resolveConfig({}, { CLIENT_KEYS: "nosecret" })).toThrow("--client-keys-inline");
  });

  test("passthrough without backend credentials is refused", async () => {
    await expect(modeFor({ auth: "passthrough" }, {}, WITHOUT_BACKEND)).rejects.toThrow("passthrough needs backend credentials");
  });

  test("an unreadable or malformed client keys file is a start-up error naming --client-keys", async () => {
    await expect(modeFor({ "client-keys": "/nonexistent/keys" }, {}, WITH_BACKEND)).rejects.toThrow("--client-keys");
    await expect(modeFor({ "client-keys": tempFile(new TextEncoder().encode("justone\n")) }, {}, WITH_BACKEND)).rejects.toThrow("line 1");
  });

  test("accepted signing regions default to --region and can be widened", () => {
    expect(resolveConfig({ region: "eu-west-1" }, {}).auth.regions).toEqual(["eu-west-1"]);
    expect(resolveConfig({ region: "eu-west-1" }, { AUTH_REGIONS: "eu-west-1, us-east-1" }).auth.regions).toEqual(["eu-west-1", "us-east-1"]);
  });

  test("web-identity refuses tokens over plain HTTP off loopback, before any STS exchange, unless TLS or --allow-insecure-tokens", async () => {
    // A closed port as STS: a token that gets past the listener check fails there with BadGateway.
    const flags: Flags = { auth: "web-identity", "role-arn": "arn:aws:iam::1:role/r", "sts-endpoint": "http://127.0.0.1:9/" };
    const cases = [
      [{ host: "0.0.0.0", tls: false }, {}, "InvalidRequest"],
      [{ host: "10.1.2.3", tls: false }, {}, "InvalidRequest"],
      [{ host: "127.0.0.1", tls: false }, {}, "BadGateway"],
      [{ host: "localhost", tls: false }, {}, "BadGateway"],
      [{ host: "0.0.0.0", tls: true }, {}, "BadGateway"],
      [{ host: "0.0.0.0", tls: false }, { "allow-insecure-tokens": true }, "BadGateway"],
    ] as const;
    for (const [listener, extra, code] of cases) {
      const { log, lines } = logger();
      const auth = await setupClientAuth(resolveConfig({ ...flags, ...extra }, {}).auth, WITHOUT_BACKEND, listener, log);
      auth.close();
      expect(lines.some((l) => l.type === "warn" && String(l.args[0]).includes("--tls-cert"))).toBe(code === "InvalidRequest");
      const tokenHeaders: Record<string, string>[] = [{ authorization: "Bearer eyJhbGciOi.x.y" }, { "x-amz-security-token": "eyJhbGciOi.x.y" }];
      for (const headers of tokenHeaders) {
        const req = new Request("http://proxy.test/bucket/key", { headers });
        const err = await Promise.resolve(auth.authenticate(parseOperation("GET", new URL(req.url), req.headers, { domains: [] }), req)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(S3Error);
        expect((err as S3Error).code).toBe(code);
        if (code !== "InvalidRequest") continue;
        const res = renderError(err, { requestId: "R", resource: "/bucket/key", method: "GET" });
        expect(res.status).toBe(400);
        expect(await res.text()).toMatch(/<Code>InvalidRequest<\/Code><Message>Web identity tokens are refused over plain HTTP: connect with https \(start the proxy with --tls-cert and --tls-key\), or start it with --allow-insecure-tokens/);
      }
    }
  });
});
