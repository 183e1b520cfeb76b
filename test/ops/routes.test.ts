/** The operator endpoints: where they answer, and that they never hide a bucket or a key. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { StatusSnapshot } from "../../src/ops/metrics.ts";
import { startBackend, type Backend } from "../support/backend.ts";
import { sdkClient } from "../support/clients.ts";
import { fillsSettled, metricValue, parseMetrics } from "../support/prometheus.ts";
import { startTestProxy } from "../support/proxy.ts";

let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  await backend.stop();
});

describe("operator endpoints on the S3 port", () => {
  test("answer under /_s3proxy/ with their content types; unknown paths 404, writes 405, all with a request id", async () => {
    const proxy = await startTestProxy(backend);
    try {
      const metrics = await fetch(`${proxy.endpoint}/_s3proxy/metrics`);
      expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(metricValue(parseMetrics(await metrics.text()), "s3proxy_build_info")).toBe(1);
      const page = await fetch(`${proxy.endpoint}/_s3proxy/status`);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(await page.text()).toContain("<title>s3proxy status</title>");
      expect((await fetch(`${proxy.endpoint}/_s3proxy/status.json`)).headers.get("content-type")).toStartWith("application/json");

      const unknown = await fetch(`${proxy.endpoint}/_s3proxy/nothing-here`);
      expect(unknown.status).toBe(404);
      const post = await fetch(`${proxy.endpoint}/_s3proxy/metrics`, { method: "POST" });
      expect(post.status).toBe(405);
      expect(post.headers.get("allow")).toBe("GET, HEAD");
      for (const res of [metrics, page, unknown, post]) expect(res.headers.get("x-amz-request-id")).toMatch(/^[0-9A-F]{16}$/);
    } finally {
      await proxy.stop();
    }
  });

  test("a key named like an operator path, addressed virtual-hosted style, is served from its bucket", async () => {
    const direct = sdkClient(backend.endpoint, backend);
    await direct.send(new PutObjectCommand({ Bucket: backend.bucket, Key: "_s3proxy/metrics", Body: "not metrics" }));
    direct.destroy();
    const proxy = await startTestProxy(backend, { domain: "s3.test" });
    const port = proxy.server.port;
    const presigner = new S3Client({ endpoint: `http://s3.test:${port}`, region: backend.region, credentials: { accessKeyId: backend.accessKeyId, secretAccessKey: backend.secretAccessKey } });
    try {
      const url = new URL(await getSignedUrl(presigner, new GetObjectCommand({ Bucket: backend.bucket, Key: "_s3proxy/metrics" })));
      expect(url.host).toBe(`${backend.bucket}.s3.test:${port}`);
      const res = await fetch(`${proxy.endpoint}${url.pathname}${url.search}`, { headers: { host: url.host } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("not metrics");
    } finally {
      presigner.destroy();
      await proxy.stop();
    }
  });
});

describe("--metrics-port", () => {
  test("serves the operator endpoints (at --metrics-path) on their own port, and the S3 port no longer does", async () => {
    const proxy = await startTestProxy(backend, { "metrics-port": "0", "metrics-path": "/metrics" });
    const ops = `http://127.0.0.1:${proxy.opsServer!.port}`;
    try {
      const metrics = await fetch(`${ops}/metrics`);
      expect(metrics.status).toBe(200);
      // The S3 port's server has no request in flight while the metrics port is scraped.
      expect(metricValue(parseMetrics(await metrics.text()), "s3proxy_in_flight_requests")).toBe(0);
      expect((await fetch(`${ops}/_s3proxy/health/live`)).status).toBe(200);
      expect((await fetch(`${ops}/${backend.bucket}/some-key`)).status).toBe(404);

      // On the S3 port, /_s3proxy/... is just a request for a bucket that cannot exist: an S3 error, not metrics.
      const onS3Port = await fetch(`${proxy.endpoint}/_s3proxy/metrics`);
      expect(onS3Port.status).toBeGreaterThanOrEqual(400);
      const text = await onS3Port.text();
      expect(text).toContain("<Error>");
      expect(text).not.toContain("s3proxy_");
    } finally {
      await proxy.stop();
    }
  });

  test("a metrics port already taken exits 2 naming --metrics-port", async () => {
    const squatter = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    try {
      const proc = Bun.spawn(["bun", "src/main.ts", "--host", "127.0.0.1", "--port", "0", "--metrics-port", String(squatter.port), "--endpoint", backend.endpoint, "--auth", "none"], {
        env: { PATH: process.env.PATH, AWS_EC2_METADATA_DISABLED: "true" },
        stdout: "ignore",
        stderr: "pipe",
      });
      const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      expect(code).toBe(2);
      expect(stderr).toContain(`s3proxy: --metrics-port: 127.0.0.1:${squatter.port} is already in use`);
    } finally {
      await squatter.stop(true);
    }
  });
});

describe("what status.json discloses", () => {
  const KEY = { accessKeyId: "AKIDSTATUS", secretAccessKey: "status-secret" };

  /** A proxy in sigv4 whose cache has served one object twice; its S3 port and, if any, its ops port. */
  async function withHits(flags: Record<string, string>) {
    const proxy = await startTestProxy(backend, { "client-keys-inline": `${KEY.accessKeyId}:${KEY.secretAccessKey}`, prefetch: "false", ...flags });
    const client = sdkClient(proxy.endpoint, { ...KEY, region: backend.region }, { responseChecksumValidation: "WHEN_REQUIRED" });
    await client.send(new PutObjectCommand({ Bucket: backend.bucket, Key: "private/name-of-a-secret-report.csv", Body: "x".repeat(1000) }));
    for (let i = 0; i < 3; i++) await (await client.send(new GetObjectCommand({ Bucket: backend.bucket, Key: "private/name-of-a-secret-report.csv", Range: "bytes=0-9" }))).Body!.transformToByteArray();
    await fillsSettled(proxy.opsServer ? `http://127.0.0.1:${proxy.opsServer.port}` : proxy.endpoint);
    client.destroy();
    return proxy;
  }

  test("with client authentication, the S3 port's status.json names no object to an unauthenticated caller", async () => {
    const proxy = await withHits({});
    try {
      const text = await (await fetch(`${proxy.endpoint}/_s3proxy/status.json`)).text();
      expect(text).not.toContain("name-of-a-secret-report");
      expect(JSON.parse(text)).toMatchObject({ topObjects: [], topObjectsHidden: true });
      expect(await (await fetch(`${proxy.endpoint}/_s3proxy/metrics`)).text()).not.toContain("name-of-a-secret-report");
    } finally {
      await proxy.stop();
    }
  });

  test("on --metrics-port, the operator's own port, it does", async () => {
    const proxy = await withHits({ "metrics-port": "0" });
    try {
      const snap = (await (await fetch(`http://127.0.0.1:${proxy.opsServer!.port}/_s3proxy/status.json`)).json()) as StatusSnapshot;
      expect(snap.topObjects[0]).toMatchObject({ object: `${backend.bucket}/private/name-of-a-secret-report.csv` });
      expect(snap.topObjectsHidden).toBeUndefined();
    } finally {
      await proxy.stop();
    }
  });
});
