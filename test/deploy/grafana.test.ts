/**
 * deploy/grafana/s3proxy.json queries only metrics the proxy exports (read from a running
 * proxy's /_s3proxy/metrics) and the README documents.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestProxy, type TestProxy } from "../support/proxy.ts";

const ROOT = join(import.meta.dir, "../..");
const dashboard = await Bun.file(join(ROOT, "deploy/grafana/s3proxy.json")).json();
const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr));

let proxy: TestProxy;
beforeAll(async () => {
  // No backend is needed to read the metrics page.
  proxy = await startTestProxy({ endpoint: "http://127.0.0.1:1", accessKeyId: "k", secretAccessKey: "s", region: "us-east-1" });
});
afterAll(() => proxy.stop());

test("every metric the dashboard queries is exported by /_s3proxy/metrics and documented in the README", async () => {
  const page = await (await fetch(`${proxy.endpoint}/_s3proxy/metrics`)).text();
  const types = new Map([...page.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const readme = await Bun.file(join(ROOT, "README.md")).text();
  const queried = new Set(exprs.flatMap((e) => [...e.matchAll(/\bs3proxy_\w+/g)].map((m) => m[0])));
  expect(queried.size).toBeGreaterThan(5);
  for (const name of queried) {
    // A histogram is queried by its series: name_bucket, name_sum, name_count.
    const base = name.replace(/_(bucket|sum|count)$/, "");
    const family = types.has(name) ? name : base;
    expect(types.get(family), name).toBeDefined();
    if (family !== name) expect(types.get(family)).toBe("histogram");
    expect(readme, `${family} is not in the README's metrics list`).toContain(`\`${family}`);
  }
});

test("hit ratio, bytes saved, latency and backend errors each have a panel", () => {
  const all = exprs.join("\n");
  for (const metric of ['s3proxy_cache_requests_total{result="hit"}', "s3proxy_bytes_from_cache_total", "s3proxy_request_duration_seconds_bucket", "s3proxy_upstream_errors_total"]) expect(all).toContain(metric);
});
