/**
 * Memory under load: many clients streaming whole large objects and reading random ranges
 * for a while, with a small cache; ours' resident set is sampled from /proc and its peak
 * (VmHWM) compared with the cache size.
 */
import { metricValue, scrape } from "../../../test/support/prometheus.ts";
import { objectBytes, objectUrl, putObject, type BenchContext } from "../config.ts";
import { startOurs, type Peer } from "../peers.ts";
import { readMemory } from "../processes.ts";
import { atMost, formatBytes, MiB } from "../stats.ts";
import type { ScenarioResult } from "../types.ts";

export async function memory(ctx: BenchContext): Promise<ScenarioResult> {
  const { config, backend } = ctx;
  const m = config.memory;
  const limit = m.cacheSize + 96 * MiB;
  const streamers = Math.max(1, Math.floor(m.clients / 8));
  const result: ScenarioResult = {
    name: "memory",
    title: "Memory under load",
    method: `${m.clients} concurrent clients for ${m.durationSec} s against ours with \`--cache-size ${formatBytes(m.cacheSize)}\` (block ${formatBytes(config.blockSize)}), straight to the backend: ${streamers} of them stream whole ${formatBytes(m.objectSize)} objects (${m.objects} objects), the others read random ${formatBytes(m.rangeSize)} ranges of them. Ours' VmRSS is sampled every 250 ms from /proc (the peak is VmHWM), and its own metrics every 500 ms (JS heap, array buffers, cache, requests in flight).`,
    tables: [],
    charts: [],
    targets: [],
    notes: [],
  };
  const keys = Array.from({ length: m.objects }, (_, i) => `memory/object-${i}.bin`);
  for (const [i, key] of keys.entries()) await putObject(backend, key, objectBytes(m.objectSize, 100 + i));
  let ours: Peer | undefined;
  const samples: [number, number][] = [];
  /** What ours' own metrics say, twice a second: the part of its RSS the JavaScript engine accounts for, the cache, the requests in flight. */
  const breakdown: { t: number; rss: number; heap: number; arrayBuffers: number; cache: number; inFlight: number }[] = [];
  const stats = { requests: 0, bytes: 0, errors: 0 };
  try {
    ours = await startOurs(backend.endpoint, backend, ["--block-size", String(config.blockSize), "--cache-size", String(m.cacheSize)]);
    const pid = ours.pid!;
    const endpoint = ours.endpoint;
    const baseline = readMemory(pid).rss;
    const started = performance.now();
    const deadline = started + m.durationSec * 1000;
    const sampler = setInterval(() => samples.push([(performance.now() - started) / 1000, readMemory(pid).rss / MiB]), 250);
    let scraping = false;
    const scraper = setInterval(async () => {
      if (scraping) return;
      scraping = true;
      try {
        const m = await scrape(`${endpoint}/_s3proxy/metrics`);
        const value = (name: string, labels: Record<string, string> = {}) => metricValue(m, name, labels);
        breakdown.push({
          t: (performance.now() - started) / 1000,
          rss: value("s3proxy_resident_memory_bytes"),
          heap: value("s3proxy_js_memory_bytes", { kind: "heap" }),
          arrayBuffers: value("s3proxy_js_memory_bytes", { kind: "array_buffers" }),
          cache: value("s3proxy_cache_used_bytes") + value("s3proxy_cache_reserved_bytes"),
          inFlight: value("s3proxy_in_flight_requests"),
        });
      } catch {
        // A scrape that lost the race with a busy proxy is one sample fewer.
      } finally {
        scraping = false;
      }
    }, 500);
    const client = async (i: number) => {
      let seed = i + 1;
      const rand = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
      while (performance.now() < deadline) {
        const key = keys[rand(keys.length)]!;
        const headers: Record<string, string> = {};
        if (i >= streamers) {
          const start = rand(Math.floor((m.objectSize - m.rangeSize) / 4096)) * 4096;
          headers.range = `bytes=${start}-${start + m.rangeSize - 1}`;
        }
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), Math.max(0, deadline - performance.now()));
        try {
          const res = await fetch(objectUrl(endpoint, backend, key), { headers, signal: controller.signal });
          for await (const chunk of res.body!) stats.bytes += chunk.length;
          clearTimeout(timer);
          stats.requests++;
        } catch (err) {
          // Our own cut at the deadline is no error (the timer can fire a hair before performance.now() reaches it).
          if (!controller.signal.aborted) {
            stats.errors++;
            if (stats.errors <= 3) ctx.log(`memory client ${i}: ${err}`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: m.clients }, (_, i) => client(i)));
    clearInterval(sampler);
    clearInterval(scraper);
    const mem = readMemory(pid);
    result.tables.push({
      columns: ["cache size", "RSS at start", "peak RSS (VmHWM)", "RSS at end", "limit (cache + 96 MiB)", "requests completed", "bytes served", "client errors"],
      rows: [[formatBytes(m.cacheSize), formatBytes(baseline), formatBytes(mem.peak), formatBytes(mem.rss), formatBytes(limit), String(stats.requests), formatBytes(stats.bytes), String(stats.errors)]],
    });
    result.targets.push({ goal: `memory: peak RSS ≤ cache size + 96 MiB (${formatBytes(limit)})`, ...atMost(mem.peak, limit, (v) => `${formatBytes(v)} (${(v / limit).toFixed(2)}× the limit)`) });
    result.notes.push("Streams cut at the deadline are not counted as completed requests.");
    if (breakdown.length > 0) {
      const peak = breakdown.reduce((a, b) => (b.rss > a.rss ? b : a));
      const mid = (f: (b: (typeof breakdown)[number]) => number) => breakdown.map(f).sort((a, b) => a - b)[Math.floor(breakdown.length / 2)]!;
      const row = (label: string, b: { rss: number; heap: number; arrayBuffers: number; cache: number; inFlight: number }) => [
        label,
        formatBytes(b.rss),
        formatBytes(b.cache),
        formatBytes(b.heap),
        formatBytes(b.arrayBuffers),
        formatBytes(Math.max(0, b.rss - b.heap - b.arrayBuffers)),
        String(b.inFlight),
      ];
      result.tables.push({
        caption: `Where ours' memory was, from its own metrics (${breakdown.length} scrapes, every 500 ms): the JavaScript heap holds the cache's extents (Blobs) and every other object; array buffers are chunks arriving from the backend (fills and streamed bodies); the rest of the RSS is native memory the engine does not account for`,
        columns: ["moment", "RSS", "cache (held + reserved)", "JS heap", "array buffers", "native (RSS − heap − buffers)", "requests in flight"],
        rows: [
          row(`highest RSS scraped (at ${peak.t.toFixed(1)} s)`, peak),
          row("median of each over the run", { rss: mid((b) => b.rss), heap: mid((b) => b.heap), arrayBuffers: mid((b) => b.arrayBuffers), cache: mid((b) => b.cache), inFlight: mid((b) => b.inFlight) }),
        ],
      });
    }
  } finally {
    await ours?.stop();
  }
  result.charts.push({
    kind: "lines",
    file: "memory.svg",
    title: `Ours' RSS, ${m.clients} clients, --cache-size ${formatBytes(m.cacheSize)}`,
    xUnit: "seconds",
    yUnit: "RSS, MiB",
    series: [
      { name: "ours VmRSS", points: samples },
      { name: "JS heap (metrics)", points: breakdown.map((b) => [b.t, b.heap / MiB] as [number, number]) },
      { name: "cache held + reserved (metrics)", points: breakdown.map((b) => [b.t, b.cache / MiB] as [number, number]) },
    ],
    marks: [
      { label: "cache size", y: m.cacheSize / MiB },
      { label: "limit: cache + 96 MiB", y: limit / MiB },
    ],
  });
  return result;
}
