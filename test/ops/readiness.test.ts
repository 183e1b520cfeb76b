import { afterAll, describe, expect, test } from "bun:test";
import { checkReadiness, type ReadinessReport } from "../../src/ops/readiness.ts";
import { UpstreamClient } from "../../src/upstream/client.ts";
import { startBackend } from "../support/backend.ts";
import { startTestProxy } from "../support/proxy.ts";

const staticCredentials = async () => ({ accessKeyId: "AK", secretAccessKey: "SK" });

describe("readiness endpoint", () => {
  test("is 200 while the backend answers and flips to 503 when it goes away; liveness stays 200", async () => {
    const backend = await startBackend();
    const proxy = await startTestProxy(backend);
    try {
      const up = await fetch(`${proxy.endpoint}/_s3proxy/health/ready`);
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ ready: true, backend: { reachable: true }, credentials: { loaded: true, source: "environment" } });

      await backend.stop();
      const down = await fetch(`${proxy.endpoint}/_s3proxy/health/ready`);
      expect(down.status).toBe(503);
      const report = (await down.json()) as ReadinessReport;
      expect(report.ready).toBe(false);
      expect(report.backend.reachable).toBe(false);
      expect(report.backend.error).toContain("ECONNREFUSED");

      const live = await fetch(`${proxy.endpoint}/_s3proxy/health/live`);
      expect(live.status).toBe(200);
      expect(await live.text()).toBe("ok\n");
    } finally {
      await proxy.stop();
    }
  });
});

describe("checkReadiness", () => {
  const servers: Array<{ stop(force: boolean): Promise<void> }> = [];
  afterAll(async () => void (await Promise.all(servers.map((s) => s.stop(true)))));

  function serve(fetchFn: (req: Request) => Response | Promise<Response>) {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: fetchFn });
    servers.push(server);
    return new URL(`http://127.0.0.1:${server.port}`);
  }

  test("any HTTP answer, even 403, means the backend is reachable; the probe is a signed HEAD /", async () => {
    let seen: { method: string; path: string; authorization: string | null } | undefined;
    const endpoint = serve((req) => {
      seen = { method: req.method, path: new URL(req.url).pathname, authorization: req.headers.get("authorization") };
      return new Response(null, { status: 403 });
    });
    const upstream = new UpstreamClient({ endpoint, region: "us-east-1", credentials: staticCredentials });
    const report = await checkReadiness({ upstream, credentials: staticCredentials, credentialSource: "environment", timeoutMs: 2000 });
    expect(report).toEqual({ ready: true, backend: { reachable: true, status: 403 }, credentials: { loaded: true, source: "environment" } });
    expect(seen!.method).toBe("HEAD");
    expect(seen!.path).toBe("/");
    expect(seen!.authorization).toStartWith("AWS4-HMAC-SHA256 Credential=AK/");
  });

  test("a backend that accepts the connection but never answers is not ready once the timeout passes", async () => {
    const endpoint = serve(() => new Promise<Response>(() => {}));
    const upstream = new UpstreamClient({ endpoint, region: "us-east-1", credentials: staticCredentials });
    const report = await checkReadiness({ upstream, credentials: staticCredentials, credentialSource: "environment", timeoutMs: 100 });
    expect(report.ready).toBe(false);
    expect(report.backend).toEqual({ reachable: false, error: "no answer within 100 ms" });
  });

  test("credentials that fail to load make the proxy not ready, even with the backend up", async () => {
    const endpoint = serve(() => new Response(null, { status: 200 }));
    const failing = async () => {
      throw new Error("container credentials endpoint refused");
    };
    const upstream = new UpstreamClient({ endpoint, region: "us-east-1", credentials: async () => undefined });
    const report = await checkReadiness({ upstream, credentials: failing, credentialSource: "container", timeoutMs: 2000 });
    expect(report.ready).toBe(false);
    expect(report.credentials).toEqual({ loaded: false, source: "container", error: "container credentials endpoint refused" });
  });

  test("running unsigned by choice (no credential source at all) is ready", async () => {
    const endpoint = serve(() => new Response(null, { status: 200 }));
    const none = async () => undefined;
    const upstream = new UpstreamClient({ endpoint, region: "us-east-1", credentials: none });
    const report = await checkReadiness({ upstream, credentials: none, credentialSource: "none", timeoutMs: 2000 });
    expect(report.ready).toBe(true);
  });
});
