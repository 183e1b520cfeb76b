/** What a bench run measures: the full sizes, or the seconds-long smoke shape used by `bun test`. */
import type { DatasetShape } from "./dataset.ts";
import type { LinkShape } from "./link.ts";
import type { Backend } from "./peers.ts";
import { KiB, MiB } from "./stats.ts";

export interface BenchConfig {
  smoke: boolean;
  reps: number;
  /** Ours' default block size; nginx slices at the same size. */
  blockSize: number;
  /** Install wrk and nginx with apt-get when absent (the full run does; the smoke run skips those peers). */
  install: boolean;
  hit: { sizes: number[]; connections: number[]; durationSec: number; warmupSec: number };
  miss: { requests: number; rangeSize: number };
  /** The relay between every proxy (or direct client) and the backend in the scenarios that cross it. */
  link: LinkShape;
  query: { dataset: DatasetShape };
  /** Queries that prune: many row groups, sorted `id` and `ts`. */
  pushdown: { dataset: DatasetShape };
  /** DuckDB-like: many small signed ranged GETs, a few in flight, through the AWS SDK. */
  ranges: { objectSize: number; requests: number; minSize: number; maxSize: number; inFlight: number };
  coalesce: { clients: number; rangeSize: number };
  memory: { clients: number; durationSec: number; objectSize: number; objects: number; cacheSize: number; rangeSize: number };
  load: { clients: number; durationSec: number; cacheSize: number; coldObjectSize: number };
  blockSizes: number[];
  /** Random ranges over an object `objectSize` large, with a memory cache of `cacheSize` in front of the disk tier. */
  disk: { objectSize: number; cacheSize: number; sizes: number[]; connections: number };
}

export const FULL: BenchConfig = {
  smoke: false,
  reps: 3,
  blockSize: 256 * KiB,
  install: true,
  hit: { sizes: [4 * KiB, 64 * KiB, MiB], connections: [32, 256], durationSec: 4, warmupSec: 1 },
  miss: { requests: 150, rangeSize: 64 * KiB },
  link: { firstByteMs: 25, connectionBandwidth: 80 * MiB },
  query: { dataset: { files: 10, rowsPerFile: 400_000, rowGroupSize: 100_000 } },
  // 3 files of 20 row groups of 65,536 rows, 11 columns: about 180 MiB.
  pushdown: { dataset: { files: 3, rowsPerFile: 20 * 65_536, rowGroupSize: 65_536, floatColumns: 7 } },
  ranges: { objectSize: 128 * MiB, requests: 300, minSize: 16 * KiB, maxSize: 64 * KiB, inFlight: 8 },
  coalesce: { clients: 100, rangeSize: 8 * MiB },
  memory: { clients: 256, durationSec: 60, objectSize: 1024 * MiB, objects: 2, cacheSize: 256 * MiB, rangeSize: MiB },
  load: { clients: 1000, durationSec: 60, cacheSize: 256 * MiB, coldObjectSize: 256 * MiB },
  blockSizes: [64 * KiB, 256 * KiB, MiB, 4 * MiB],
  disk: { objectSize: 512 * MiB, cacheSize: 64 * MiB, sizes: [4 * KiB, 64 * KiB], connections: 32 },
};

export const SMOKE: BenchConfig = {
  smoke: true,
  reps: 1,
  blockSize: 256 * KiB,
  install: false,
  hit: { sizes: [4 * KiB], connections: [8], durationSec: 1, warmupSec: 0 },
  miss: { requests: 8, rangeSize: 4 * KiB },
  // The real link's shape at a smaller delay: the pacing is exercised, the run stays short.
  link: { firstByteMs: 2, connectionBandwidth: 80 * MiB },
  query: { dataset: { files: 2, rowsPerFile: 2_000, rowGroupSize: 500 } },
  pushdown: { dataset: { files: 2, rowsPerFile: 4_096, rowGroupSize: 1_024, floatColumns: 7 } },
  ranges: { objectSize: 4 * MiB, requests: 24, minSize: 16 * KiB, maxSize: 64 * KiB, inFlight: 8 },
  coalesce: { clients: 8, rangeSize: 512 * KiB },
  memory: { clients: 8, durationSec: 1, objectSize: 4 * MiB, objects: 1, cacheSize: 8 * MiB, rangeSize: 64 * KiB },
  load: { clients: 16, durationSec: 1, cacheSize: 16 * MiB, coldObjectSize: 4 * MiB },
  blockSizes: [256 * KiB, MiB],
  disk: { objectSize: 8 * MiB, cacheSize: 2 * MiB, sizes: [4 * KiB], connections: 8 },
};

export interface BenchContext {
  config: BenchConfig;
  backend: Backend;
  /** Peers that could not run (package missing): named in the report. */
  has: { nginx: boolean; wrk: boolean; redis: boolean };
  log(message: string): void;
}

/** A deterministic byte pattern for test objects (1 MiB of pseudo-random bytes, repeated). */
export function objectBytes(size: number, seed = 7): Uint8Array {
  const block = new Uint8Array(Math.min(size, MiB));
  let x = seed;
  for (let i = 0; i < block.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    block[i] = x >>> 24;
  }
  const out = new Uint8Array(size);
  for (let off = 0; off < size; off += block.length) out.set(block.subarray(0, Math.min(block.length, size - off)), off);
  return out;
}

export async function putObject(backend: Backend, key: string, body: Uint8Array): Promise<void> {
  const res = await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body });
  if (res.status !== 200) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`);
}

export function objectUrl(endpoint: string, backend: Backend, key: string): string {
  return `${endpoint}/${backend.bucket}/${key}`;
}
