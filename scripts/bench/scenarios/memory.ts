/**
 * Memory under load: many clients streaming whole large objects and reading random ranges
 * for a while, with a small cache; ours' resident set is sampled from /proc and its peak
 * (VmHWM) compared with the cache size.
 */
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
    method: `${m.clients} concurrent clients for ${m.durationSec} s against ours with \`--cache-size ${formatBytes(m.cacheSize)}\` (block ${formatBytes(config.blockSize)}), straight to the backend: ${streamers} of them stream whole ${formatBytes(m.objectSize)} objects (${m.objects} objects), the others read random ${formatBytes(m.rangeSize)} ranges of them. Ours' VmRSS is sampled every 250 ms from /proc; the peak is VmHWM.`,
    tables: [],
    charts: [],
    targets: [],
    notes: [],
  };
  const keys = Array.from({ length: m.objects }, (_, i) => `memory/object-${i}.bin`);
  for (const [i, key] of keys.entries()) await putObject(backend, key, objectBytes(m.objectSize, 100 + i));
  let ours: Peer | undefined;
  const samples: [number, number][] = [];
  const stats = { requests: 0, bytes: 0, errors: 0 };
  try {
    ours = await startOurs(backend.endpoint, backend, ["--block-size", String(config.blockSize), "--cache-size", String(m.cacheSize)]);
    const pid = ours.pid!;
    const endpoint = ours.endpoint;
    const baseline = readMemory(pid).rss;
    const started = performance.now();
    const deadline = started + m.durationSec * 1000;
    const sampler = setInterval(() => samples.push([(performance.now() - started) / 1000, readMemory(pid).rss / MiB]), 250);
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
    const mem = readMemory(pid);
    result.tables.push({
      columns: ["cache size", "RSS at start", "peak RSS (VmHWM)", "RSS at end", "limit (cache + 96 MiB)", "requests completed", "bytes served", "client errors"],
      rows: [[formatBytes(m.cacheSize), formatBytes(baseline), formatBytes(mem.peak), formatBytes(mem.rss), formatBytes(limit), String(stats.requests), formatBytes(stats.bytes), String(stats.errors)]],
    });
    result.targets.push({ goal: `memory: peak RSS ≤ cache size + 96 MiB (${formatBytes(limit)})`, ...atMost(mem.peak, limit, (v) => `${formatBytes(v)} (${(v / limit).toFixed(2)}× the limit)`) });
    result.notes.push("Streams cut at the deadline are not counted as completed requests.");
  } finally {
    await ours?.stop();
  }
  result.charts.push({
    kind: "lines",
    file: "memory.svg",
    title: `Ours' RSS, ${m.clients} clients, --cache-size ${formatBytes(m.cacheSize)}`,
    xUnit: "seconds",
    yUnit: "RSS, MiB",
    series: [{ name: "ours VmRSS", points: samples }],
    marks: [
      { label: "cache size", y: m.cacheSize / MiB },
      { label: "limit: cache + 96 MiB", y: limit / MiB },
    ],
  });
  return result;
}
