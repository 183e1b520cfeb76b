/**
 * Where a Parquet file's footer is. A file ends with the Thrift footer, its 4-byte
 * little-endian length and the magic `PAR1`. Readers (Polars, DuckDB, pyarrow) fetch the
 * last 64 KiB first, then the rest of the footer if it is longer. Pure.
 */
import type { ByteRange } from "../s3/range.ts";

export const FOOTER_GUESS = 64 * 1024;
const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

/**
 * The ranges to prefetch: the last 64 KiB always; and once that tail is known, the whole
 * footer (when the tail holds a valid Parquet trailer).
 */
export function footerRanges(size: number, tail?: Uint8Array): [ByteRange, ByteRange?] {
  const guess = { start: Math.max(0, size - FOOTER_GUESS), end: size - 1 };
  if (!tail || tail.byteLength < 8) return [guess];
  const end = tail.byteLength;
  for (let i = 0; i < 4; i++) if (tail[end - 4 + i] !== MAGIC[i]) return [guess];
  const length = new DataView(tail.buffer, tail.byteOffset + end - 8, 4).getUint32(0, true);
  const footerStart = size - 8 - length;
  if (footerStart < 0) return [guess];
  return [guess, { start: footerStart, end: size - 1 }];
}
