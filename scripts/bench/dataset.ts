/**
 * The Parquet dataset of the query scenarios: trips-like rows over several files, with a
 * sorted `id` and `ts` (so row-group statistics prune lookups and time windows) and
 * incompressible float columns (so the bytes on the wire are real). Generated once per
 * shape into the temp directory and reused by later runs; uploaded to each run's backend.
 * Written with `sinkParquet`: `DataFrame.writeParquet` in nodejs-polars 0.25 ignores
 * `rowGroupSize` and writes one row group per file, which leaves statistics nothing to prune.
 */
import pl from "nodejs-polars";
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backend } from "./peers.ts";

export interface DatasetShape {
  files: number;
  rowsPerFile: number;
  rowGroupSize: number;
  /** Float columns after id, ts, city and passengers (8 unless stated). */
  floatColumns?: number;
}

export interface Dataset extends DatasetShape {
  dir: string;
  names: string[];
  bytes: number;
  rows: number;
  /** The backend keys, once uploaded. */
  keys: string[];
}

const CITIES = ["paris", "berlin", "lima", "osaka", "lagos", "quito", "perth", "oslo", "cairo", "delhi", "miami", "seoul", "tunis", "dakar", "hanoi", "turin"];
const FLOAT_COLUMNS = ["fare", "tip", "distance", "duration", "tolls", "surcharge", "lat", "lon"];
export const TS_STEP = 1000;

/** The columns of a dataset of this shape, in file order. */
export function columnsOf(shape: DatasetShape): string[] {
  return ["id", "ts", "city", "passengers", ...FLOAT_COLUMNS.slice(0, shape.floatColumns ?? FLOAT_COLUMNS.length)];
}

/** Deterministic uniform floats in [0, 1), so every run sees the same data. */
function floats(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let x = Math.imul(seed, 2654435761) ^ 0x9e3779b9 || 1;
  for (let i = -16; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (i >= 0) out[i] = (x >>> 0) / 4294967296;
  }
  return out;
}

function frame(file: number, rows: number, floatColumns: number): pl.DataFrame {
  const first = file * rows;
  const id = Array.from({ length: rows }, (_, i) => first + i);
  const columns = [
    pl.Series("id", id, pl.Int64),
    pl.Series(
      "ts",
      id.map((v) => v * TS_STEP),
      pl.Int64,
    ),
    pl.Series(
      "city",
      id.map((v) => CITIES[(v * 7) % CITIES.length]!),
    ),
    pl.Series(
      "passengers",
      id.map((v) => 1 + ((v * 40503) % 6)),
      pl.Int32,
    ),
    ...FLOAT_COLUMNS.slice(0, floatColumns).map((name, c) =>
      pl.Series(
        name,
        Array.from(floats(rows, first * 31 + c + 1), (v) => Math.round(v * 1e6) / 100),
        pl.Float64,
      ),
    ),
  ];
  return pl.DataFrame(columns);
}

export async function ensureDataset(shape: DatasetShape): Promise<Dataset> {
  const floatColumns = shape.floatColumns ?? FLOAT_COLUMNS.length;
  // "sink": files written before the switch to sinkParquet had one row group each.
  const dir = join(tmpdir(), `s3proxy-bench-parquet-${shape.files}x${shape.rowsPerFile}-rg${shape.rowGroupSize}-f${floatColumns}-sink`);
  const names = Array.from({ length: shape.files }, (_, i) => `part-${String(i).padStart(3, "0")}.parquet`);
  if (!names.every((n) => existsSync(join(dir, n)))) {
    mkdirSync(dir, { recursive: true });
    for (const [i, name] of names.entries()) {
      if (existsSync(join(dir, name))) continue;
      const partial = join(dir, `${name}.partial`);
      await frame(i, shape.rowsPerFile, floatColumns).lazy().sinkParquet(partial, { compression: "snappy", rowGroupSize: shape.rowGroupSize, statistics: true }).collect();
      renameSync(partial, join(dir, name));
    }
  }
  const bytes = names.reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
  return { ...shape, dir, names, bytes, rows: shape.files * shape.rowsPerFile, keys: [] };
}

export async function uploadDataset(backend: Backend, dataset: Dataset, prefix = "dataset"): Promise<Dataset> {
  const keys: string[] = [];
  for (const name of readdirSync(dataset.dir)
    .filter((n) => dataset.names.includes(n))
    .sort()) {
    const key = `${prefix}/${name}`;
    const res = await fetch(`${backend.endpoint}/${backend.bucket}/${key}`, { method: "PUT", body: Bun.file(join(dataset.dir, name)) });
    if (res.status !== 200) throw new Error(`upload of ${key} failed: ${res.status} ${await res.text()}`);
    keys.push(key);
  }
  return { ...dataset, keys };
}
