/**
 * DuckDB-like reads: hundreds of small SigV4-signed ranged GETs, a few in flight, through
 * @aws-sdk/client-s3, so ours verifies a signature on every request (`--auth sigv4`).
 * Direct, ours cold and warm, nginx cold and warm, across the S3-shaped link.
 */
import type { BenchContext } from "../config.ts";
import { describeLink } from "../link.ts";
import { startRelay } from "../peers.ts";
import { atMost, formatBytes, formatRatio, formatSummary, ratio, summarize } from "../stats.ts";
import { emptyResult } from "../result.ts";
import type { ScenarioResult } from "../types.ts";
import { measureRanges, prepareRanges, type RangePath, type RangeRun } from "./_ranges.ts";

export async function signedRanges(ctx: BenchContext): Promise<ScenarioResult> {
  const { config } = ctx;
  const cfg = config.ranges;
  const block = config.blockSize;
  const result = emptyResult(
    "signed-ranges",
    "Signed small ranges, DuckDB-like, on an S3-shaped link",
    `**Link: ${describeLink(config.link)}** (the latency relay in front of the backend, which counts backend requests and bytes). ${cfg.requests} ranged GETs of ${formatBytes(cfg.minSize)}–${formatBytes(cfg.maxSize)} at deterministic random offsets of one ${formatBytes(cfg.objectSize)} object, ${cfg.inFlight} in flight, each a \`GetObjectCommand\` of @aws-sdk/client-s3 (SigV4 header-signed, checksums off); every body compared with the known bytes. Ours runs with \`--auth sigv4\` and client keys, so every request's signature is verified, and block size ${formatBytes(block)}; nginx (slice ${formatBytes(block)}) forwards the signature unchecked. Ours and nginx start empty each repetition: cold is the first pass, warm the same ranges again, then warm again. No local row: the workload is the ranges themselves. Wall time for all ${cfg.requests} requests, median of ${config.reps} repetitions (min–max).`,
  );
  const relay = await startRelay(ctx.backend.endpoint, config.link);
  const runs = new Map<string, RangeRun[]>();
  try {
    const w = await prepareRanges(ctx, relay);
    const paths: [string, RangePath][] = [
      ["direct", { kind: "direct" }],
      ["ours", { kind: "ours", blockSize: block }],
    ];
    if (ctx.has.nginx) paths.push(["nginx", { kind: "nginx", blockSize: block }]);
    for (let rep = 0; rep < config.reps; rep++) {
      for (const [name, path] of paths) {
        for (const [run, r] of await measureRanges(ctx, w, path)) {
          const label = run === "direct" ? run : `${name} ${run}`;
          runs.set(label, [...(runs.get(label) ?? []), r]);
          ctx.log(`signed-ranges ${label}: ${r.ms.toFixed(0)} ms, ${r.requests} backend requests, ${formatBytes(r.bytes)}, ${r.wrong} wrong`);
        }
      }
    }
  } finally {
    await relay.stop();
  }
  const of = (label: string, f: "ms" | "requests" | "bytes") => summarize((runs.get(label) ?? []).map((r) => r[f]));
  const ms = (label: string) => of(label, "ms").median;
  const wrong = [...runs.values()].flat().reduce((n, r) => n + r.wrong, 0);
  result.tables.push({
    caption: `All ${cfg.requests} requests; backend requests and bytes counted at the relay (median)`,
    columns: ["path", "wall ms", "backend requests", "backend bytes", "wrong bodies"],
    rows: [...runs].map(([label, rs]) => [label, formatSummary(of(label, "ms"), 0), String(of(label, "requests").median), formatBytes(of(label, "bytes").median), String(rs.reduce((n, r) => n + r.wrong, 0))]),
  });
  result.tables.push({
    caption: "Ratios (same run)",
    columns: ["ours cold ÷ direct", "direct ÷ ours warm (speedup)", "ours warm ÷ nginx warm", "backend bytes ours cold ÷ direct"],
    rows: [
      [formatRatio(ratio(ms("ours cold"), ms("direct"))), formatRatio(ratio(ms("direct"), ms("ours warm"))), formatRatio(ratio(ms("ours warm"), ms("nginx warm"))), formatRatio(ratio(of("ours cold", "bytes").median, of("direct", "bytes").median))],
    ],
  });
  result.targets.push({ goal: "signed ranges: ours cold ≤ 1.0× direct", ...atMost(ratio(ms("ours cold"), ms("direct")), 1, formatRatio) });
  result.targets.push({ goal: "signed ranges: ours warm (auth on) ≤ 1.0× nginx warm", ...atMost(ratio(ms("ours warm"), ms("nginx warm")), 1, formatRatio) });
  result.notes.push(wrong ? `**${wrong} bodies differed from the object's bytes.**` : "Every body matched the object's bytes.");
  result.charts.push({
    kind: "bars",
    file: "signed-ranges.svg",
    title: `${cfg.requests} signed ${formatBytes(cfg.minSize)}–${formatBytes(cfg.maxSize)} GETs, ${cfg.inFlight} in flight, link: ${describeLink(config.link)} (median, whisker = min–max)`,
    unit: "ms",
    groups: [{ label: `${cfg.requests} GETs`, bars: [...runs.keys()].map((label) => ({ series: label, value: ms(label), min: of(label, "ms").min, max: of(label, "ms").max })) }],
  });
  return result;
}
