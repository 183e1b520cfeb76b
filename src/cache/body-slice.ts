/**
 * Part of a body as it streams: the bytes from `from` to `to` (exclusive) of what it sends,
 * the others dropped as they pass, and the body given up (a stream is cancelled) once `to`
 * is reached, so nothing beyond the part is read or held. Pure over its input.
 */
import type { Chunks } from "./block-cache.ts";

export async function* bodySlice(body: Chunks, from: number, to = Infinity): AsyncIterable<Uint8Array> {
  if (from >= to) return;
  let at = 0;
  for await (const chunk of body) {
    const end = at + chunk.byteLength;
    if (end > from) yield chunk.subarray(Math.max(0, from - at), Math.min(chunk.byteLength, to - at));
    at = end;
    if (at >= to) return;
  }
}
