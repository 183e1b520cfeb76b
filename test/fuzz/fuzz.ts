/**
 * One fuzz campaign: fast-check generates sequences for a configuration, each runs on fresh
 * keys against one long-lived proxy, and a failure is shrunk (within a time budget, since
 * every attempt costs real requests) and reported with its seed, path and shrunk sequence.
 */
import fc from "fast-check";
import { FuzzFailure, FuzzTarget, SequenceRunner, type FuzzConfig } from "./driver.ts";
import { arbitraries, formatSequence, type Sequence } from "./ops.ts";

const KiB = 1024;

/** Proxy configurations the fuzzer covers; CI runs each with its own budget. */
export const CONFIGS: FuzzConfig[] = [
  { name: "meta-ttl-0", metaTtlMs: 0, blockSize: 16 * KiB, maxSize: 100 * KiB, args: ["--cache-size", "1MiB"], firstByteTimeoutMs: 2000, faults: [403, 500, "slow"], restarts: false },
  { name: "meta-ttl-1s-evicting", metaTtlMs: 1000, blockSize: 16 * KiB, maxSize: 100 * KiB, args: ["--cache-size", "192KiB"], firstByteTimeoutMs: 2000, faults: [403, 503, "slow"], restarts: false },
  { name: "meta-ttl-200ms-stalls", metaTtlMs: 200, blockSize: 4 * KiB, maxSize: 40 * KiB, args: ["--cache-size", "512KiB"], firstByteTimeoutMs: 1000, faults: [403, 500, "slow", "stall"], restarts: false },
  { name: "disk-tier-restarts", metaTtlMs: 1000, blockSize: 16 * KiB, maxSize: 100 * KiB, args: ["--cache-size", "256KiB", "--disk-cache-size", "8MiB"], firstByteTimeoutMs: 2000, faults: [403], restarts: true, disk: true },
  { name: "redis-tier", metaTtlMs: 1000, blockSize: 16 * KiB, maxSize: 100 * KiB, args: ["--cache-size", "256KiB"], firstByteTimeoutMs: 2000, faults: [403], restarts: true, redis: true },
];

export interface CampaignOptions {
  seed?: number;
  /** Sequences to generate. */
  runs: number;
  /** Most operations per sequence. */
  length: number;
  /** Replays one counterexample (fast-check's path) instead of searching. */
  path?: string;
  /** Time shrinking may take once a failure is found. */
  shrinkMs: number;
}

export interface CampaignResult {
  ok: boolean;
  seed: number;
  requests: number;
  ms: number;
  /** Requests and time until the first failure (the search, without shrinking): the fuzzer's speed. */
  searchRequests: number;
  searchMs: number;
  /** The failure, shrunk, for people: seed, error and sequence. */
  report?: string;
}

export async function campaign(config: FuzzConfig, opts: CampaignOptions): Promise<CampaignResult> {
  const target = new FuzzTarget(config);
  await target.start();
  const started = performance.now();
  let requests = 0;
  let run = 0;
  let failedAt: number | undefined;
  let search: { requests: number; ms: number } | undefined;
  try {
    const property = fc.asyncProperty(arbitraries(config)(opts.length), async (seq: Sequence) => {
      // Once the shrink budget is spent every candidate passes, which ends shrinking with the smallest failure found.
      if (failedAt !== undefined && performance.now() - failedAt > opts.shrinkMs) return;
      const runner = new SequenceRunner(target, run++);
      try {
        await runner.execute(seq);
      } catch (err) {
        if (failedAt === undefined) {
          failedAt = performance.now();
          search = { requests: requests + runner.requests, ms: failedAt - started };
        }
        throw err;
      } finally {
        requests += runner.requests;
      }
    });
    const details = await fc.check(property, { seed: opts.seed, numRuns: opts.runs, path: opts.path, endOnFailure: false });
    const ms = performance.now() - started;
    const speed = { searchRequests: search?.requests ?? requests, searchMs: search?.ms ?? ms };
    if (!details.failed) return { ok: true, seed: details.seed, requests, ms, ...speed };
    const [seq] = details.counterexample ?? [];
    const error = details.errorInstance instanceof FuzzFailure ? details.errorInstance.message : String(details.errorInstance);
    const report = [
      `fuzz config ${config.name}: wrong answer (seed ${details.seed}, path "${details.counterexamplePath}", ${details.numShrinks} shrinks)`,
      error,
      "shrunk sequence:",
      seq ? formatSequence(seq) : "(none)",
      `replay: bun run fuzz -- --config ${config.name} --seed ${details.seed} --length ${opts.length} --path "${details.counterexamplePath}"`,
    ].join("\n");
    return { ok: false, seed: details.seed, requests, ms, ...speed, report };
  } finally {
    await target.stop();
  }
}
