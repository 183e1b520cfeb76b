/**
 * Sustained mixed load: many concurrent clients doing cache hits, cold misses, PUTs, LISTs
 * and HEADs against ours for a while. Nothing is timed against a peer here: the figures are
 * unexpected errors (any wrong status or wrong byte), writes lost (every PUT is read back
 * afterwards), throughput and ours' peak RSS.
 */
import { objectBytes, objectUrl, putObject, type BenchContext } from "../config.ts";
import { startOurs, type Peer } from "../peers.ts";
import { readMemory } from "../processes.ts";
import { atMost, formatBytes, MiB } from "../stats.ts";
import type { ScenarioResult } from "../types.ts";

export async function load(ctx: BenchContext): Promise<ScenarioResult> {
  const { config, backend } = ctx;
  const l = config.load;
  const result: ScenarioResult = {
    name: "load",
    title: "Sustained mixed load",
    method: `${l.clients} concurrent clients (Bun fetch, keep-alive) for ${l.durationSec} s against ours (\`--cache-size ${formatBytes(l.cacheSize)}\`, block ${formatBytes(config.blockSize)}), straight to the backend. Each client loops over a mix: 40% range GETs of two hot objects (cache hits once warm), 20% range GETs at random offsets of a ${formatBytes(l.coldObjectSize)} object (mostly misses), 20% PUTs of small objects, 10% ListObjectsV2, 10% HEAD. Every GET's bytes are compared with the known object; afterwards every PUT is read back through ours and compared. Ours' RSS is sampled every 250 ms.`,
    tables: [],
    charts: [],
    targets: [],
    notes: [],
  };
  const hot = [0, 1].map((i) => objectBytes(8 * MiB, 300 + i));
  const cold = objectBytes(l.coldObjectSize, 400);
  for (const [i, body] of hot.entries()) await putObject(backend, `load/hot-${i}.bin`, body);
  await putObject(backend, "load/cold.bin", cold);
  let ours: Peer | undefined;
  const samples: [number, number][] = [];
  const written = new Map<string, Uint8Array>();
  const counts = { requests: 0, unexpected: 0, lost: 0 };
  const errors: string[] = [];
  const unexpected = (what: string) => {
    counts.unexpected++;
    if (errors.length < 5) errors.push(what);
  };
  try {
    ours = await startOurs(backend.endpoint, backend, ["--block-size", String(config.blockSize), "--cache-size", String(l.cacheSize)]);
    const pid = ours.pid!;
    const endpoint = ours.endpoint;
    const started = performance.now();
    const deadline = started + l.durationSec * 1000;
    const sampler = setInterval(() => samples.push([(performance.now() - started) / 1000, readMemory(pid).rss / MiB]), 250);
    const client = async (i: number) => {
      let seed = i + 1;
      const rand = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
      for (let n = 0; performance.now() < deadline; n++) {
        const pick = rand(10);
        try {
          if (pick < 6) {
            const [body, key] = pick < 4 ? [hot[pick % 2]!, `load/hot-${pick % 2}.bin`] : [cold, "load/cold.bin"];
            const start = rand(body.length - 65536);
            const end = start + rand(65536);
            const res = await fetch(objectUrl(endpoint, backend, key), { headers: { range: `bytes=${start}-${end}` } });
            const got = new Uint8Array(await res.arrayBuffer());
            if (res.status !== 206 || Buffer.compare(got, body.subarray(start, end + 1)) !== 0) unexpected(`GET ${key} ${start}-${end}: ${res.status}`);
          } else if (pick < 8) {
            const key = `load/put-${i}-${n}.bin`;
            const body = objectBytes(1024 + rand(16 * 1024), i * 100_000 + n);
            const res = await fetch(objectUrl(endpoint, backend, key), { method: "PUT", body });
            await res.arrayBuffer();
            if (res.status === 200) written.set(key, body);
            else unexpected(`PUT ${key}: ${res.status}`);
          } else if (pick === 8) {
            const res = await fetch(`${endpoint}/${backend.bucket}?list-type=2&prefix=load/hot-`);
            await res.arrayBuffer();
            if (res.status !== 200) unexpected(`LIST: ${res.status}`);
          } else {
            const res = await fetch(objectUrl(endpoint, backend, "load/hot-0.bin"), { method: "HEAD" });
            if (res.status !== 200 || res.headers.get("content-length") !== String(8 * MiB)) unexpected(`HEAD: ${res.status}`);
          }
          counts.requests++;
        } catch (err) {
          unexpected(String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: l.clients }, (_, i) => client(i)));
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    for (const [key, body] of written) {
      const res = await fetch(objectUrl(endpoint, backend, key));
      if (Buffer.compare(new Uint8Array(await res.arrayBuffer()), body) !== 0) counts.lost++;
    }
    const mem = readMemory(pid);
    result.tables.push({
      columns: ["clients", "seconds", "requests", "requests/s", "PUTs read back", "unexpected errors", "writes lost", "peak RSS (VmHWM)"],
      rows: [[String(l.clients), seconds.toFixed(0), String(counts.requests), (counts.requests / seconds).toFixed(0), String(written.size), String(counts.unexpected), String(counts.lost), formatBytes(mem.peak)]],
    });
    result.targets.push({ goal: `load: zero unexpected errors under ${l.clients} concurrent clients`, ...atMost(counts.unexpected, 0, (v) => `${v} errors in ${counts.requests} requests`) });
    result.targets.push({ goal: "load: zero writes lost (every PUT read back byte-exact)", ...atMost(counts.lost, 0, (v) => `${v} of ${written.size} lost`) });
    for (const e of errors) result.notes.push(`Unexpected: ${e}`);
  } finally {
    await ours?.stop();
  }
  result.charts.push({
    kind: "lines",
    file: "load.svg",
    title: `Ours' RSS, ${l.clients} clients of mixed operations`,
    xUnit: "seconds",
    yUnit: "RSS, MiB",
    series: [{ name: "ours VmRSS", points: samples }],
    marks: [{ label: "cache size", y: l.cacheSize / MiB }],
  });
  return result;
}
