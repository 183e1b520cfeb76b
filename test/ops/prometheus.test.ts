import { describe, expect, test } from "bun:test";
import { Registry } from "../../src/ops/prometheus.ts";
import { metricValue, parseMetrics } from "../support/prometheus.ts";

describe("Registry", () => {
  test("renders counters with HELP, TYPE and one line per label set", () => {
    const r = new Registry();
    const c = r.counter("x_requests_total", "Requests");
    c.inc({ op: "Get", status: "200" });
    c.inc({ op: "Get", status: "200" }, 2);
    c.inc({ op: "Put", status: "500" });
    expect(r.render()).toBe('# HELP x_requests_total Requests\n# TYPE x_requests_total counter\nx_requests_total{op="Get",status="200"} 3\nx_requests_total{op="Put",status="500"} 1\n');
  });

  test("label order does not split one series in two", () => {
    const c = new Registry().counter("c_total", "c");
    c.inc({ a: "1", b: "2" });
    c.inc({ b: "2", a: "1" });
    expect(c.get({ a: "1", b: "2" })).toBe(2);
    expect(c.total()).toBe(2);
  });

  test("label values are escaped (backslash, quote, newline) and read back intact", () => {
    const r = new Registry();
    r.counter("e_total", "e").inc({ key: 'a"b\\c\nd' });
    const text = r.render();
    expect(text).toContain('e_total{key="a\\"b\\\\c\\nd"} 1');
    expect(parseMetrics(text)[0]!.labels.key).toBe('a"b\\c\nd');
  });

  test("histogram buckets are cumulative, with +Inf, _sum and _count", () => {
    const r = new Registry();
    const h = r.histogram("d_seconds", "d", [1, 0.1]);
    for (const v of [0.05, 0.5, 0.5, 7]) h.observe(v, { op: "Get" });
    const s = parseMetrics(r.render());
    expect(metricValue(s, "d_seconds_bucket", { le: "0.1" })).toBe(1);
    expect(metricValue(s, "d_seconds_bucket", { le: "1" })).toBe(3);
    expect(metricValue(s, "d_seconds_bucket", { le: "+Inf" })).toBe(4);
    expect(metricValue(s, "d_seconds_sum")).toBeCloseTo(8.05);
    expect(metricValue(s, "d_seconds_count")).toBe(4);
  });

  test("collected metrics are read at render time, not at registration", () => {
    const r = new Registry();
    let held = 1;
    r.gauge("g_bytes", "g", () => held);
    r.collectedCounter("k_total", "k", () => [[{ result: "hit" }, held * 2]]);
    held = 5;
    const s = parseMetrics(r.render());
    expect(metricValue(s, "g_bytes")).toBe(5);
    expect(metricValue(s, "k_total", { result: "hit" })).toBe(10);
    expect(r.render()).toContain("# TYPE g_bytes gauge\n");
  });

  test("a name registered twice or not matching the Prometheus grammar is refused", () => {
    const r = new Registry();
    r.counter("a_total", "a");
    expect(() => r.counter("a_total", "a")).toThrow(/twice/);
    expect(() => r.counter("a-b", "a")).toThrow(/invalid/);
  });
});
