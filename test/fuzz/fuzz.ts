/**
 * One fuzz campaign: fast-check generates sequences for a configuration and runs them
 * against one long-lived proxy, in several concurrent lanes (each its own fast-check run
 * with seed + lane, each sequence on fresh keys), since the fuzzer waits on the meta TTL and
 * the network far more than it computes. A failure is shrunk within a time budget (every
 * attempt costs real requests) and reported with its seed, path and shrunk sequence.
 */
import fc from "fast-check";
import { FuzzFailure, FuzzTarget, SequenceRunner, type FuzzConfig } from "./driver.ts";
import { arbitraries, formatSequence, type Sequence } from "./ops.ts";
import { metricValue, scrape } from "../support/prometheus.ts";

const KiB = 1024;

/** Proxy configurations the fuzzer covers; CI runs each with its own budget. */
export const CONFIGS: FuzzConfig[] = [
  { name: "meta-ttl-0", metaTtlMs: 0, blockSize: 16 * KiB, maxSize: 100 * KiB, args: ["--cache-size", "1MiB"], firstByteTimeoutMs: 2000, faults: [403, 500, "slow", "cut"], restarts: false },
  { name: "meta-ttl-1s-evicting", metaTtlMs: 1000, blockSize: 16 * KiB, maxSize: 100 * KiB, args: ["--cache-size", "192KiB"], firstByteTimeoutMs: 2000, faults: [403, 503, "slow", "cut"], restarts: false },
  // Every HEAD a suffix GET of the tail, every discovery a footer prefetch racing the reads.
  { name: "parquet-prefetch", metaTtlMs: 1000, blockSize: 16 * KiB, maxSize: 100 * KiB, args: ["--cache-size", "256KiB"], firstByteTimeoutMs: 2000, faults: [403, 500, "slow", "cut"], restarts: false, parquet: true },
  { name: "meta-ttl-200ms-stalls", metaTtlMs: 200, blockSize: 4 * KiB, maxSize: 40 * KiB, args: ["--cache-size", "512KiB"], firstByteTimeoutMs: 1000, faults: [403, 500, "slow", "stall"], restarts: false },
  { name: "disk-tier-restarts", metaTtlMs: 1000, blockSize: 16 * KiB, maxSize: 100 * KiB, args: ["--cache-size", "256KiB", "--disk-cache-size", "8MiB"], firstByteTimeoutMs: 2000, faults: [403], restarts: true, disk: true },
  // Memory far smaller than the disk and the disk smaller than the data: most hits read slices of block files, and files are evicted under them.
  { name: "disk-tier-evicting", metaTtlMs: 1000, blockSize: 16 * KiB, maxSize: 100 * KiB, args: ["--cache-size", "128KiB", "--disk-cache-size", "1MiB"], firstByteTimeoutMs: 2000, faults: [403, "cut"], restarts: false, disk: true },
  { name: "redis-tier", metaTtlMs: 1000, blockSize: 16 * KiB, maxSize: 100 * KiB, args: ["--cache-size", "256KiB"], firstByteTimeoutMs: 2000, faults: [403], restarts: true, redis: "server" },
  { name: "redis-cluster-tier", metaTtlMs: 1000, blockSize: 16 * KiB, maxSize: 100 * KiB, args: ["--cache-size", "256KiB"], firstByteTimeoutMs: 2000, faults: [403], restarts: true, redis: "cluster", extended: true },
];

export interface CampaignOptions {
  seed: number;
  /** Concurrent lanes (see lanesFor); lane i uses seed + i. */
  lanes: number;
  /** Sequences each lane generates. */
  runs: number;
  /** Most operations per sequence. */
  length: number;
  /** Replays one counterexample (fast-check's path; with lanes: 1) instead of searching. */
  path?: string;
  /** Time shrinking may take once a failure is found. */
  shrinkMs: number;
}

export interface CampaignResult {
  ok: boolean;
  requests: number;
  ms: number;
  /** Requests and time until the first failure (the search, without shrinking): the fuzzer's speed. */
  searchRequests: number;
  searchMs: number;
  /** Each failing lane's failure, shrunk, for people: seed, error, sequence, proxy errors. */
  reports: string[];
  /** Backend bodies cut off halfway, and the reads the proxy asked again after one (since its last restart). */
  cuts: { served: number; retriedReads: number };
}

/** Lanes a configuration runs in: one when it restarts the proxy, which would cut the other lanes off. */
export function lanesFor(config: FuzzConfig, wanted: number): number {
  return config.restarts ? 1 : wanted;
}

export async function campaign(config: FuzzConfig, opts: CampaignOptions): Promise<CampaignResult> {
  const target = new FuzzTarget(config);
  await target.start();
  const started = performance.now();
  let requests = 0;
  let search: { requests: number; ms: number } | undefined;

  const lane = async (n: number): Promise<string | undefined> => {
    const seed = opts.seed + n;
    let run = 0;
    let failedAt: number | undefined;
    const property = fc.asyncProperty(arbitraries(config)(opts.length), async (seq: Sequence) => {
      // Once the shrink budget is spent every candidate passes, which ends shrinking with the smallest failure found.
      if (failedAt !== undefined && performance.now() - failedAt > opts.shrinkMs) return;
      const runner = new SequenceRunner(target, `l${n}r${run++}`);
      try {
        await runner.execute(seq);
      } catch (err) {
        failedAt ??= performance.now();
        search ??= { requests: requests + runner.requests, ms: failedAt - started };
        throw err;
      } finally {
        requests += runner.requests;
      }
    });
    const details = await fc.check(property, { seed, numRuns: opts.runs, path: opts.path, endOnFailure: false });
    if (!details.failed) return undefined;
    const [seq] = details.counterexample ?? [];
    const error = details.errorInstance instanceof FuzzFailure ? details.errorInstance.message : String(details.errorInstance);
    const logged = target.proxy
      .output()
      .split("\n")
      .filter((l) => /\[(error|warn)\]/.test(l))
      .slice(-5);
    return [
      `fuzz config ${config.name}: wrong answer (seed ${seed}, path "${details.counterexamplePath}", ${details.numShrinks} shrinks)`,
      error,
      "shrunk sequence:",
      seq ? formatSequence(seq) : "(none)",
      ...(logged.length > 0 ? ["the proxy logged (last lines):", ...logged] : []),
      `replay: bun run fuzz -- --config ${config.name} --seed ${seed} --length ${opts.length} --path "${details.counterexamplePath}"`,
    ].join("\n");
  };

  try {
    const lanes = lanesFor(config, opts.lanes);
    const reports = (await Promise.all(Array.from({ length: lanes }, (_, n) => lane(n)))).filter((r) => r !== undefined);
    const ms = performance.now() - started;
    const cuts = { served: target.backend.cuts, retriedReads: metricValue(await scrape(`${target.proxy.endpoint}/_s3proxy/metrics`), "s3proxy_cache_retried_reads_total") };
    return { ok: reports.length === 0, requests, ms, searchRequests: search?.requests ?? requests, searchMs: search?.ms ?? ms, reports, cuts };
  } finally {
    await target.stop();
  }
}
