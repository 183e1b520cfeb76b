/**
 * Many clients, one cold range: how many backend requests and bytes it costs. Each
 * repetition uses a fresh object, so it starts cold; the relay (the S3-shaped link)
 * counts what reaches the backend.
 */
import { objectBytes, objectUrl, putObject, type BenchContext } from "../config.ts";
import { describeLink } from "../link.ts";
import { startNginx } from "../nginx.ts";
import { startOurs, startRelay, stopAll, type Peer } from "../peers.ts";
import { formatBytes, formatSummary, summarize } from "../stats.ts";
import type { ScenarioResult } from "../types.ts";

export async function coalesce(ctx: BenchContext): Promise<ScenarioResult> {
  const { config, backend } = ctx;
  const { clients, rangeSize } = config.coalesce;
  const block = config.blockSize;
  const blocks = Math.ceil(rangeSize / block);
  const result: ScenarioResult = {
    name: "coalesce",
    title: "Request coalescing",
    method: `${clients} concurrent clients GET the same cold ${formatBytes(rangeSize)} range (${blocks} blocks of ${formatBytes(block)}) of a fresh object; the backend is behind the latency relay, **link: ${describeLink(config.link)}** (the latency makes the clients really overlap), which counts requests and bytes. Every client's body is checked byte for byte. ${config.reps} repetitions.`,
    tables: [],
    charts: [],
    targets: [],
    notes: [],
  };
  const relay = await startRelay(backend.endpoint, config.link);
  const peers: Peer[] = [];
  const counts = new Map<string, { requests: number[]; bytes: number[]; ms: number[]; wrong: number }>();
  try {
    peers.push(await startOurs(relay.endpoint, backend, ["--block-size", String(block)]));
    if (ctx.has.nginx) peers.push(await startNginx(relay.endpoint, block));
    const data = objectBytes(rangeSize * 2, 11);
    const expected = data.subarray(0, rangeSize);
    for (let rep = 0; rep < config.reps; rep++) {
      for (const peer of peers) {
        const key = `coalesce/${peer.name}-${rep}.bin`;
        await putObject(backend, key, data);
        await relay.reset();
        const t0 = performance.now();
        const bodies = await Promise.all(
          Array.from({ length: clients }, async () => {
            const res = await fetch(objectUrl(peer.endpoint, backend, key), { headers: { range: `bytes=0-${rangeSize - 1}` } });
            return new Uint8Array(await res.arrayBuffer());
          }),
        );
        const ms = performance.now() - t0;
        await Bun.sleep(100);
        const seen = await relay.reset();
        const c = counts.get(peer.name) ?? { requests: [], bytes: [], ms: [], wrong: 0 };
        c.ms.push(ms);
        c.requests.push(seen.requests);
        c.bytes.push(seen.bytesFromBackend);
        c.wrong += bodies.filter((b) => Buffer.compare(b, expected) !== 0).length;
        counts.set(peer.name, c);
        ctx.log(`coalesce ${peer.name}: ${seen.requests} backend requests, ${formatBytes(seen.bytesFromBackend)}, all clients served in ${ms.toFixed(0)} ms`);
      }
    }
  } finally {
    await stopAll(...peers, relay);
  }
  result.tables.push({
    columns: ["server", "backend requests (median, min–max)", "backend bytes (median)", "bytes ÷ range", "wrong bodies", "all clients served, ms"],
    rows: [...counts].map(([name, c]) => {
      const r = summarize(c.requests);
      const b = summarize(c.bytes).median;
      return [name, `${r.median} (${r.min}–${r.max})`, formatBytes(b), (b / rangeSize).toFixed(3), String(c.wrong), formatSummary(summarize(c.ms), 0)];
    }),
  });
  result.notes.push("Backend bytes include response headers (a few hundred bytes per request), so a perfect run is slightly above 1.000× the range.");
  const ours = counts.get("ours")!;
  const oursBytes = Math.max(...ours.bytes);
  // One fetch per block: no block's bytes came twice (headers aside), and never more requests than blocks.
  const once = oursBytes < rangeSize + block / 2 && Math.max(...ours.requests) <= blocks && ours.wrong === 0;
  result.targets.push({ goal: "coalesce: exactly one upstream fetch per block", measured: `${Math.max(...ours.requests)} requests for ${blocks} blocks, ${(oursBytes / rangeSize).toFixed(3)}× the range bytes (worst repetition)`, met: once });
  result.charts.push({
    kind: "bars",
    file: "coalesce.svg",
    title: `${clients} clients, one cold ${formatBytes(rangeSize)} range: backend traffic (median)`,
    unit: "MiB from the backend",
    groups: [{ label: `${clients} clients`, bars: [...counts].map(([name, c]) => ({ series: name, value: summarize(c.bytes).median / 1024 ** 2, min: summarize(c.bytes).min / 1024 ** 2, max: summarize(c.bytes).max / 1024 ** 2 })) }],
  });
  return result;
}
