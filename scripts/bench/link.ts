/**
 * The S3-shaped link between a proxy (or a direct client) and the backend: the latency
 * relay's settings, said once for every scenario that crosses it, and the sentence the
 * report prints beside that scenario's figures.
 */
import { formatBytes } from "./stats.ts";

export interface LinkShape {
  /** Added before the first byte of every response (S3 within a region: 20-40 ms). */
  firstByteMs: number;
  /** Bytes per second on each connection (S3: roughly 50-100 MB/s per connection). */
  connectionBandwidth?: number;
  /** Bytes per second over all connections together; uncapped when absent. */
  bandwidth?: number;
}

/** The relay's command-line flags for this link. */
export function relayFlags(link: LinkShape): string[] {
  const flags = ["--delay", String(link.firstByteMs)];
  if (link.connectionBandwidth) flags.push("--connection-bandwidth", String(Math.round(link.connectionBandwidth)));
  if (link.bandwidth) flags.push("--bandwidth", String(Math.round(link.bandwidth)));
  return flags;
}

const rate = (bytesPerSecond: number | undefined) => (bytesPerSecond ? `${formatBytes(bytesPerSecond)}/s` : "uncapped");

/** "first byte +25 ms, 80 MiB/s per connection, aggregate uncapped" */
export function describeLink(link: LinkShape): string {
  return `first byte +${link.firstByteMs} ms, ${rate(link.connectionBandwidth)} per connection, aggregate ${rate(link.bandwidth)}`;
}

const UNITS: Record<string, number> = { "": 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** "80MiB" or "83886080" (bytes per second). */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(KiB|MiB|GiB)?$/.exec(text);
  if (!m) throw new Error(`not a rate: ${text} (bytes per second, e.g. 80MiB)`);
  return Number(m[1]) * UNITS[m[2] ?? ""]!;
}
