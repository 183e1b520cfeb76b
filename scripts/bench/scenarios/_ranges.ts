/**
 * The DuckDB-like workload shared by `signed-ranges` and `block-size`: many small ranged
 * GETs of one object, a few in flight, each signed by the AWS SDK (as DuckDB's httpfs signs
 * its own), through a path across the S3-shaped link; the relay counts what each run cost
 * the backend, and every body is compared with the known bytes.
 */
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { objectBytes, putObject, type BenchConfig, type BenchContext } from "../config.ts";
import { startNginx } from "../nginx.ts";
import { AUTH_FLAGS, BENCH_CLIENT, startOurs, type Relay } from "../peers.ts";
import { fillsSettled } from "../../../test/support/prometheus.ts";
import { sdkClient } from "../../../test/support/clients.ts";

export interface Range {
  offset: number;
  length: number;
}

/** The ranges of one run: deterministic, spread over the object, sizes uniform in [min, max]. */
export function planRanges(cfg: BenchConfig["ranges"], seed = 1): Range[] {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  return Array.from({ length: cfg.requests }, () => {
    const length = cfg.minSize + Math.floor(next() * (cfg.maxSize - cfg.minSize + 1));
    return { offset: Math.floor(next() * (cfg.objectSize - length)), length };
  });
}

export interface RangeRun {
  ms: number;
  requests: number;
  bytes: number;
  /** Bodies that differ from the object's bytes. */
  wrong: number;
}

/** Every range once, `inFlight` at a time, timed until the last body has arrived. */
async function getRanges(client: S3Client, bucket: string, key: string, ranges: Range[], inFlight: number, expected: Uint8Array): Promise<{ ms: number; wrong: number }> {
  let next = 0;
  let wrong = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < ranges.length) {
      const r = ranges[next++]!;
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${r.offset}-${r.offset + r.length - 1}` }));
      const body = await res.Body!.transformToByteArray();
      if (Buffer.compare(body, expected.subarray(r.offset, r.offset + r.length)) !== 0) wrong++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { ms: performance.now() - t0, wrong };
}

export interface RangeWorkload {
  key: string;
  ranges: Range[];
  expected: Uint8Array;
  relay: Relay;
}

export async function prepareRanges(ctx: BenchContext, relay: Relay): Promise<RangeWorkload> {
  const cfg = ctx.config.ranges;
  const expected = objectBytes(cfg.objectSize, 17);
  const key = `ranges/object-${cfg.objectSize}.bin`;
  await putObject(ctx.backend, key, expected);
  return { key, ranges: planRanges(cfg), expected, relay };
}

/** Which runs a path records, in order: direct has one, the caches a cold and warm ones. */
export type RangePath = { kind: "direct" } | { kind: "ours" | "nginx"; blockSize: number };

/**
 * One repetition through one path: direct once; ours (a fresh process, `--auth sigv4`) and
 * nginx (fresh, empty cache) cold, then warm, then warm again. Results by run label.
 */
export async function measureRanges(ctx: BenchContext, w: RangeWorkload, path: RangePath): Promise<Map<string, RangeRun>> {
  const { backend } = ctx;
  const inFlight = ctx.config.ranges.inFlight;
  const sdkOptions = { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" } as const;
  const runs = new Map<string, RangeRun>();
  const run = async (label: string, client: S3Client, settle: () => Promise<void>) => {
    await w.relay.reset();
    const { ms, wrong } = await getRanges(client, backend.bucket, w.key, w.ranges, inFlight, w.expected);
    // What a run cost includes the block tails still arriving after its last answer.
    await settle();
    const upstream = await w.relay.reset();
    runs.set(label, { ms, wrong, requests: upstream.requests, bytes: upstream.bytesFromBackend });
  };
  const pause = () => Bun.sleep(100);
  if (path.kind === "direct") {
    const client = sdkClient(w.relay.endpoint, backend, sdkOptions);
    await run("direct", client, pause);
    client.destroy();
    return runs;
  }
  const peer = path.kind === "ours" ? await startOurs(w.relay.endpoint, backend, ["--block-size", String(path.blockSize), ...AUTH_FLAGS]) : await startNginx(w.relay.endpoint, path.blockSize);
  // Ours verifies the client's signature against its client keys; nginx forwards it
  // unchecked to s3rver, which checks no signature but knows only its own access key.
  const client = sdkClient(peer.endpoint, path.kind === "ours" ? BENCH_CLIENT : backend, sdkOptions);
  const settle = path.kind === "ours" ? () => fillsSettled(peer.endpoint) : pause;
  try {
    for (const label of ["cold", "warm", "warm again"]) await run(label, client, settle);
  } finally {
    client.destroy();
    await peer.stop();
  }
  return runs;
}
