/**
 * Cache-hit throughput: wrk hammers one range that every server answers from memory
 * (ours and nginx warmed first), at each range size and connection count.
 */
import { signedGetHeaders } from "../client-signing.ts";
import { objectBytes, putObject, type BenchContext } from "../config.ts";
import { loadAverage, loadNote } from "../load-average.ts";
import { startNginx } from "../nginx.ts";
import { AUTH_FLAGS, startOurs, startRaw, stopAll, type Peer } from "../peers.ts";
import { atLeast, formatBytes, formatSummary, ratio, summarize, type Summary } from "../stats.ts";
import type { ScenarioResult, Target } from "../types.ts";
import { runWrk, type WrkResult } from "../wrk.ts";
import { fillsSettled } from "../../../test/support/prometheus.ts";
import { createTestCa } from "../../../test/support/tls-certs.ts";

const KEY = "hit/object.bin";
const AUTH_ON = "ours, auth on";
const TLS = "ours, TLS";

/**
 * Headers for one request to a peer: ours with authentication gets a header-signed SigV4 GET,
 * verified on every request. A presigned URL would not do: its query parameters make ours
 * bypass the cache.
 */
function headersFor(peer: Peer, url: string, range: string): Promise<Record<string, string>> | Record<string, string> {
  return peer.name === AUTH_ON ? signedGetHeaders(url, range) : { range };
}

export async function hitThroughput(ctx: BenchContext): Promise<ScenarioResult> {
  const { config, backend } = ctx;
  // Short runs on shared cores spread widely: at least 5 repetitions (`--reps` raises it further).
  const reps = config.smoke ? config.reps : Math.max(5, config.reps);
  const result: ScenarioResult = {
    name: "hit-throughput",
    title: "Cache-hit throughput",
    method: `wrk -t1 (one thread) with ${config.hit.connections.join(" and ")} keep-alive connections, ${config.hit.durationSec} s per run after a ${config.hit.warmupSec} s warm-up, a fixed \`Range\` of ${config.hit.sizes.map(formatBytes).join(", ")} on one ${formatBytes(Math.max(...config.hit.sizes) * 8)} object, answered from memory by ours (auth off; auth on: \`--auth sigv4\`, a header-signed SigV4 request verified on every request; and TLS: auth off, \`--tls-cert\`/\`--tls-key\` with an RSA-2048 certificate, wrk speaking https over its keep-alive connections) and from nginx's proxy_cache (slice ${formatBytes(config.blockSize)}, page cache), and by the raw Bun.serve ceiling. Servers take turns within each repetition; requests/s is the median of ${reps} repetitions (min–max), ratios are taken within each repetition and then their median (min–max).`,
    tables: [],
    charts: [],
    targets: [],
    notes: [],
  };
  if (!ctx.has.wrk) {
    result.notes.push("Not measured: wrk is not installed (the smoke run does not install it).");
    return result;
  }
  const loadBefore = loadAverage();
  const objectSize = Math.max(...config.hit.sizes) * 8;
  await putObject(backend, KEY, objectBytes(objectSize));
  const peers: Peer[] = [];
  const ca = await createTestCa();
  try {
    const cert = await ca.issue("bench");
    const tls = { ...cert, ca: await Bun.file(ca.caFile).text() };
    peers.push(await startOurs(backend.endpoint, backend, ["--block-size", String(config.blockSize)], "ours"));
    peers.push(await startOurs(backend.endpoint, backend, ["--block-size", String(config.blockSize), ...AUTH_FLAGS], AUTH_ON));
    peers.push(await startOurs(backend.endpoint, backend, ["--block-size", String(config.blockSize)], TLS, tls));
    if (ctx.has.nginx) peers.push(await startNginx(backend.endpoint, config.blockSize));
    peers.push(await startRaw());
    const runs = new Map<string, WrkResult[]>();
    const key = (peer: string, size: number, conns: number) => `${peer}|${size}|${conns}`;
    for (const peer of peers) {
      for (const size of config.hit.sizes) {
        const range = `bytes=0-${size - 1}`;
        // Warm: the first request fills the cache; check the second is a hit.
        for (let i = 0; i < 2; i++) {
          const url = `${peer.endpoint}/${backend.bucket}/${KEY}`;
          const res = await fetch(url, { headers: await headersFor(peer, url, range), tls: peer.tls });
          await res.arrayBuffer();
          if (res.status !== 206) throw new Error(`${peer.name} answered the warm-up range with ${res.status}`);
          // Ours answers a miss once its bytes are in; the block may still be arriving.
          if (i === 0 && peer.name.startsWith("ours")) await fillsSettled(peer.endpoint, peer.tls);
          if (i === 1 && peer.name.startsWith("ours") && res.headers.get("x-cache") !== "HIT") result.notes.push(`${peer.name} answered the warmed ${formatBytes(size)} range with x-cache: ${res.headers.get("x-cache")}, not HIT.`);
          if (i === 1 && peer.name === "nginx" && res.headers.get("x-cache-status") !== "HIT") result.notes.push(`nginx answered the warmed ${formatBytes(size)} range with cache status ${res.headers.get("x-cache-status")}, not HIT.`);
        }
      }
    }
    for (let rep = 0; rep < reps; rep++) {
      for (const size of config.hit.sizes) {
        for (const conns of config.hit.connections) {
          for (const peer of peers) {
            const url = `${peer.endpoint}/${backend.bucket}/${KEY}`;
            const opts = { url, connections: conns, headers: await headersFor(peer, url, `bytes=0-${size - 1}`) };
            if (rep === 0 && config.hit.warmupSec > 0) await runWrk({ ...opts, durationSec: config.hit.warmupSec });
            const r = await runWrk({ ...opts, durationSec: config.hit.durationSec });
            ctx.log(`hit ${peer.name} ${formatBytes(size)} c${conns}: ${r.requestsPerSec.toFixed(0)} req/s p50 ${r.p50Ms.toFixed(2)} ms p99 ${r.p99Ms.toFixed(2)} ms errors ${r.errors}`);
            if (r.errors > 0) result.notes.push(`${peer.name} ${formatBytes(size)} c${conns}: ${r.errors} errors in one run.`);
            const k = key(peer.name, size, conns);
            runs.set(k, [...(runs.get(k) ?? []), r]);
          }
        }
      }
    }
    const series = (peer: string, size: number, conns: number) => (runs.get(key(peer, size, conns)) ?? []).map((r) => r.requestsPerSec);
    const rps = (peer: string, size: number, conns: number): Summary => summarize(series(peer, size, conns));
    const lat = (peer: string, size: number, conns: number, f: (r: WrkResult) => number): Summary => summarize((runs.get(key(peer, size, conns)) ?? []).map(f));
    // Ratios are taken within each repetition (the runs of one repetition are seconds apart), then the median.
    const rel = (peer: string, to: string, size: number, conns: number): Summary => {
      const a = series(peer, size, conns);
      const b = series(to, size, conns);
      return summarize(a.length && a.length === b.length ? a.map((x, i) => ratio(x, b[i]!)) : []);
    };
    const names = peers.map((p) => p.name);
    const rows: string[][] = [];
    for (const size of config.hit.sizes) {
      for (const conns of config.hit.connections) {
        for (const name of names) {
          rows.push([
            formatBytes(size),
            String(conns),
            name,
            formatSummary(rps(name, size, conns), 0),
            formatSummary(
              lat(name, size, conns, (r) => r.p50Ms),
              2,
            ),
            formatSummary(
              lat(name, size, conns, (r) => r.p99Ms),
              2,
            ),
            name.startsWith("ours") ? "" : formatSummary(rel("ours", name, size, conns), 2),
          ]);
        }
      }
    }
    result.tables.push({ columns: ["range", "connections", "server", "requests/s", "p50 ms", "p99 ms", "ours ÷ this (per repetition)"], rows });
    result.charts.push({
      kind: "bars",
      file: "hit-throughput.svg",
      title: "Cache-hit requests/s relative to raw Bun.serve (= 1), median of per-repetition ratios",
      unit: "× raw Bun.serve",
      groups: config.hit.sizes.flatMap((size) =>
        config.hit.connections.map((conns) => ({
          label: `${formatBytes(size)} c${conns}`,
          bars: names.map((name) => {
            const r = rel(name, "raw Bun.serve", size, conns);
            return { series: name, value: r.median, min: r.min, max: r.max };
          }),
        })),
      ),
    });
    result.notes.push(loadNote(loadBefore));
    for (const size of config.hit.sizes) {
      for (const conns of config.hit.connections) {
        result.notes.push(`TLS ÷ plain HTTP (ours, auth off), ${formatBytes(size)} hits, c${conns}: ${formatSummary(rel(TLS, "ours", size, conns), 2)}× (median of per-repetition ratios, min–max).`);
      }
    }
    const target = 64 * 1024;
    if (config.hit.sizes.includes(target)) {
      for (const conns of config.hit.connections) {
        const targets: Target[] = [
          { goal: `hit req/s, 64 KiB, c${conns}, auth off ≥ 1.0× nginx`, ...atLeast(rel("ours", "nginx", target, conns).median, 1.0) },
          { goal: `hit req/s, 64 KiB, c${conns}, auth off ≥ 0.85× raw Bun.serve`, ...atLeast(rel("ours", "raw Bun.serve", target, conns).median, 0.85) },
          { goal: `hit req/s, 64 KiB, c${conns}, auth on ≥ 0.75× raw Bun.serve`, ...atLeast(rel(AUTH_ON, "raw Bun.serve", target, conns).median, 0.75) },
        ];
        result.targets.push(...targets);
      }
    }
  } finally {
    await stopAll(...peers);
    ca.remove();
  }
  return result;
}
