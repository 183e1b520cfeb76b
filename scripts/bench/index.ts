/**
 * The benchmark suite: `bun run bench [scenario...] [--smoke] [--out DIR] [--reps N]
 * [--first-byte-ms 20-40] [--connection-bandwidth 80MiB] [--link-bandwidth 1GiB]`.
 * Starts everything it needs on loopback (backend, relay, ours, nginx, raw Bun.serve; wrk
 * and nginx are installed with apt-get when absent), runs the scenarios, and writes
 * BENCHMARKS.md, bench/<scenario>.svg and bench/results/<scenario>.json under DIR (the
 * repository by default). Results of scenarios not run this time are kept from earlier runs.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FULL, SMOKE, type BenchConfig, type BenchContext } from "./config.ts";
import { ensurePackages, installed } from "./install.ts";
import { parseRate, type LinkShape } from "./link.ts";
import { startBackend } from "./peers.ts";
import { describeMachine, renderReport } from "./report.ts";
import { blockSize } from "./scenarios/block-size.ts";
import { coalesce } from "./scenarios/coalesce.ts";
import { diskHits } from "./scenarios/disk-hits.ts";
import { fleet } from "./scenarios/fleet.ts";
import { hitThroughput } from "./scenarios/hit-throughput.ts";
import { load } from "./scenarios/load.ts";
import { memory } from "./scenarios/memory.ts";
import { missOverhead } from "./scenarios/miss-overhead.ts";
import { pushdown } from "./scenarios/pushdown.ts";
import { query } from "./scenarios/query.ts";
import { signedRanges } from "./scenarios/signed-ranges.ts";
import { renderChart } from "./svg.ts";
import type { ScenarioResult } from "./types.ts";

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  "hit-throughput": hitThroughput,
  "miss-overhead": missOverhead,
  query,
  pushdown,
  "signed-ranges": signedRanges,
  coalesce,
  memory,
  load,
  "block-size": blockSize,
  fleet,
  "disk-hits": diskHits,
};

interface Args {
  scenarios: string[];
  smoke: boolean;
  /** Only re-render BENCHMARKS.md and the charts from the stored results. */
  reportOnly: boolean;
  out: string;
  reps?: number;
  /** Overrides of the S3-shaped link's shape. */
  link: Partial<LinkShape>;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { scenarios: [], smoke: false, reportOnly: false, out: resolve(import.meta.dir, "..", ".."), link: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--smoke") args.smoke = true;
    else if (a === "--report-only") args.reportOnly = true;
    else if (a === "--out") args.out = resolve(argv[++i]!);
    else if (a === "--reps") args.reps = Number(argv[++i]);
    else if (a === "--first-byte-ms") {
      const ms = Number(argv[++i]);
      // S3's first byte within a region: outside this the link is not S3-shaped.
      if (!(ms >= 20 && ms <= 40)) throw new Error(`--first-byte-ms takes 20 to 40, not ${argv[i]}`);
      args.link.firstByteMs = ms;
    } else if (a === "--connection-bandwidth") args.link.connectionBandwidth = parseRate(argv[++i]!);
    else if (a === "--link-bandwidth") args.link.bandwidth = parseRate(argv[++i]!);
    else if (a in SCENARIOS) args.scenarios.push(a);
    else throw new Error(`unknown argument ${a}; scenarios: ${Object.keys(SCENARIOS).join(", ")}`);
  }
  if (args.scenarios.length === 0) args.scenarios = Object.keys(SCENARIOS);
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const base = args.smoke ? SMOKE : FULL;
  const config: BenchConfig = { ...base, ...(args.reps ? { reps: args.reps } : {}), link: { ...base.link, ...args.link } };
  const chartDir = join(args.out, "bench");
  const resultDir = join(chartDir, "results");
  if (!args.reportOnly) await runScenarios(args, config, resultDir);
  const results = Object.keys(SCENARIOS)
    .map((name) => join(resultDir, `${name}.json`))
    .filter(existsSync)
    .map((file) => JSON.parse(readFileSync(file, "utf8")) as ScenarioResult);
  for (const chart of results.flatMap((r) => r.charts)) await Bun.write(join(chartDir, chart.file), renderChart(chart));
  const notes = join(chartDir, "notes.md");
  const report = renderReport(results, await describeMachine(), "bench", config.smoke, existsSync(notes) && !config.smoke ? readFileSync(notes, "utf8") : undefined);
  await Bun.write(join(args.out, "BENCHMARKS.md"), report);
  console.error(`bench: wrote ${join(args.out, "BENCHMARKS.md")}`);
}

async function runScenarios(args: Args, config: BenchConfig, resultDir: string): Promise<void> {
  const missing = await ensurePackages({ wrk: "wrk", nginx: "nginx" }, config.install);
  if (missing.length) console.error(`bench: without ${missing.join(", ")}: those peers are skipped`);
  mkdirSync(resultDir, { recursive: true });
  const backend = await startBackend();
  const ctx: BenchContext = { config, backend, has: { nginx: installed("nginx"), wrk: installed("wrk"), redis: installed("redis-server") }, log: (m) => console.error(`bench: ${m}`) };
  try {
    for (const name of args.scenarios) {
      ctx.log(`scenario ${name}`);
      const started = performance.now();
      const result = await SCENARIOS[name]!(ctx);
      result.seconds = (performance.now() - started) / 1000;
      result.finishedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      await Bun.write(join(resultDir, `${name}.json`), JSON.stringify(result, null, 2) + "\n");
      ctx.log(`scenario ${name} done in ${result.seconds.toFixed(0)} s`);
    }
  } finally {
    await backend.stop();
  }
}

await main();
