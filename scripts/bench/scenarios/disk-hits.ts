/**
 * Disk-tier hits: wrk reads ranges at random offsets over an object eight times ours'
 * memory cache, all of it on ours' disk tier, so nearly every request is a disk hit. Beside
 * it: the same reads answered from ours' memory (a cache that holds the whole object),
 * from nginx's proxy_cache files (the page cache), and from the loopback backend itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { objectBytes, objectUrl, putObject, type BenchContext } from "../config.ts";
import { loadAverage, loadNote } from "../load-average.ts";
import { startNginx } from "../nginx.ts";
import { startOurs, stopAll, type Peer } from "../peers.ts";
import { atLeast, formatBytes, formatSummary, ratio, summarize } from "../stats.ts";
import { emptyResult } from "../result.ts";
import type { ScenarioResult } from "../types.ts";
import { runWrk } from "../wrk.ts";
import { tierWritesSettled } from "../../../test/support/prometheus.ts";

const KEY = "disk-hits/object.bin";
const DISK = "ours, disk hits";
const MEMORY = "ours, memory hits";

/** A wrk script sending `size`-byte ranges at offsets drawn from a fixed seed over `objectSize` bytes. */
function randomRangeScript(objectSize: number, size: number): string {
  return `math.randomseed(20261201)
request = function()
  local start = math.random(0, ${objectSize - size})
  return wrk.format("GET", nil, { ["Range"] = "bytes=" .. start .. "-" .. (start + ${size - 1}) })
end
`;
}

/** Read the whole object through a peer in block-sized ranges, so every block is cached there. */
async function warm(peer: Peer, url: string, objectSize: number, block: number): Promise<void> {
  for (let at = 0; at < objectSize; at += block) {
    const res = await fetch(url, { headers: { range: `bytes=${at}-${Math.min(objectSize, at + block) - 1}` } });
    await res.arrayBuffer();
    if (res.status !== 206) throw new Error(`${peer.name} answered a warm-up range with ${res.status}`);
  }
}

export async function diskHits(ctx: BenchContext): Promise<ScenarioResult> {
  const { config, backend } = ctx;
  const { objectSize, cacheSize, sizes, connections } = config.disk;
  const block = config.blockSize;
  const result = emptyResult(
    "disk-hits",
    "Disk-tier hits",
    `wrk -t1 -c${connections}, ${config.hit.durationSec} s per run after a ${config.hit.warmupSec} s warm-up, ranges of ${sizes.map(formatBytes).join(" and ")} at random offsets (fixed seed) over one ${formatBytes(objectSize)} object, first read through each server in ${formatBytes(block)} ranges. **${DISK}**: \`--cache-size ${formatBytes(cacheSize)} --cache-dir\`, so about ${Math.round((100 * (objectSize - cacheSize)) / objectSize)}% of the reads are answered from block files (page cache); **${MEMORY}**: a memory cache holding the whole object; nginx: proxy_cache files, slice ${formatBytes(block)}; and the loopback backend (s3rver) read directly. Auth off. Requests/s, median of ${config.reps} repetitions (min–max).`,
  );
  if (!ctx.has.wrk) {
    result.notes.push("Not measured: wrk is not installed (the smoke run does not install it).");
    return result;
  }
  const loadBefore = loadAverage();
  await putObject(backend, KEY, objectBytes(objectSize));
  const dir = mkdtempSync(join(tmpdir(), "bench-disk-hits-"));
  const peers: Peer[] = [];
  try {
    const diskDir = join(dir, "cache");
    const flags = ["--block-size", String(block), "--no-prefetch"];
    peers.push(await startOurs(backend.endpoint, backend, [...flags, "--cache-size", String(cacheSize), "--cache-dir", diskDir, "--disk-cache-size", String(4 * objectSize)], DISK));
    peers.push(await startOurs(backend.endpoint, backend, [...flags, "--cache-size", String(2 * objectSize)], MEMORY));
    if (ctx.has.nginx) peers.push(await startNginx(backend.endpoint, block));
    const direct: Peer = { name: "backend (s3rver), direct", endpoint: backend.endpoint, stop: async () => {} };
    for (const peer of peers) {
      await warm(peer, objectUrl(peer.endpoint, backend, KEY), objectSize, block);
      if (peer.name.startsWith("ours")) await tierWritesSettled(peer.endpoint);
    }
    const all = [...peers, direct];
    const runs = new Map<string, number[]>();
    for (let rep = 0; rep < config.reps; rep++) {
      for (const size of sizes) {
        const script = join(dir, `ranges-${size}.lua`);
        writeFileSync(script, randomRangeScript(objectSize, size));
        for (const peer of all) {
          const opts = { url: objectUrl(peer.endpoint, backend, KEY), connections, script };
          if (rep === 0 && config.hit.warmupSec > 0) await runWrk({ ...opts, durationSec: config.hit.warmupSec });
          const r = await runWrk({ ...opts, durationSec: config.hit.durationSec });
          ctx.log(`disk-hits ${peer.name} ${formatBytes(size)}: ${r.requestsPerSec.toFixed(0)} req/s p50 ${r.p50Ms.toFixed(2)} ms errors ${r.errors}`);
          if (r.errors > 0) result.notes.push(`${peer.name} ${formatBytes(size)}: ${r.errors} errors in one run.`);
          const k = `${peer.name}|${size}`;
          runs.set(k, [...(runs.get(k) ?? []), r.requestsPerSec]);
        }
      }
    }
    const series = (peer: string, size: number) => runs.get(`${peer}|${size}`) ?? [];
    const rel = (a: string, b: string, size: number) => summarize(series(a, size).map((x, i) => ratio(x, series(b, size)[i]!)));
    result.tables.push({
      columns: ["range", "server", "requests/s", `${DISK} ÷ this (per repetition)`],
      rows: sizes.flatMap((size) => all.map((p) => [formatBytes(size), p.name, formatSummary(summarize(series(p.name, size)), 0), p.name === DISK ? "" : formatSummary(rel(DISK, p.name, size), 2)])),
    });
    for (const size of sizes) result.targets.push({ goal: `disk hits, ${formatBytes(size)} at random offsets, ≥ 1.0× the loopback backend`, ...atLeast(rel(DISK, direct.name, size).median, 1.0) });
    result.notes.push(loadNote(loadBefore));
  } finally {
    await stopAll(...peers);
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
