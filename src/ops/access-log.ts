/**
 * One access-log line per request: logfmt-style text (`--log-format pretty`) or the same
 * fields as one JSON object (`--log-format json`). The client's key id is logged, never
 * its secret; nothing secret is in the record to begin with.
 */
import type { LogFormat, Logger } from "../log.ts";
import { batchedLineWriter, type LineWriter } from "./line-writer.ts";
import type { RequestRecord } from "../proxy/request-record.ts";
import { bodyBytes } from "./metrics.ts";

export interface AccessEntry {
  requestId: string;
  keyId?: string;
  method: string;
  path: string;
  op?: string;
  bucket?: string;
  key?: string;
  range?: string;
  status: number;
  bytes?: number;
  cache?: string;
  ms: number;
  upstreamMs?: number;
  /** The successful cache hits this line stands for, when hits are sampled (--access-log-sample). */
  sample?: number;
}

/** `path` is the request's path as received (percent-encoded), without the query. */
export type AccessLog = (method: string, path: string, res: Response, record: RequestRecord, ms: number) => void;

export function accessEntry(method: string, path: string, res: Response, record: RequestRecord, ms: number): AccessEntry {
  const entry: AccessEntry = {
    requestId: record.requestId,
    keyId: record.identity?.accessKeyId,
    method,
    path,
    op: record.op?.kind,
    bucket: record.op?.bucket,
    key: record.op?.key,
    range: record.op?.headers.get("range") ?? undefined,
    status: res.status,
    bytes: record.bytes ?? bodyBytes(res),
    cache: record.cache,
    ms: round(ms),
    upstreamMs: record.upstreamMs === undefined ? undefined : round(record.upstreamMs),
  };
  // Absent fields stay undefined: JSON.stringify and formatAccessLine leave them out rather than print null.
  return entry;
}

/**
 * `GET /bucket/key 206 requestId=… op=GetObject … ms=0.41`: the request line first, then
 * key=value pairs. Written out field by field (it runs once per request): the fields the
 * proxy makes itself (ids, operation, numbers, cache result) never need quoting.
 */
export function formatAccessLine(e: AccessEntry): string {
  let line = `${e.method} ${e.path} ${e.status} requestId=${e.requestId}`;
  if (e.keyId !== undefined) line += ` keyId=${logfmtValue(e.keyId)}`;
  if (e.op !== undefined) line += ` op=${e.op}`;
  if (e.bucket !== undefined) line += ` bucket=${logfmtValue(e.bucket)}`;
  if (e.key !== undefined) line += ` key=${logfmtValue(e.key)}`;
  if (e.range !== undefined) line += ` range=${logfmtValue(e.range)}`;
  if (e.bytes !== undefined) line += ` bytes=${e.bytes}`;
  if (e.cache !== undefined) line += ` cache=${e.cache}`;
  line += ` ms=${e.ms}`;
  if (e.upstreamMs !== undefined) line += ` upstreamMs=${e.upstreamMs}`;
  if (e.sample !== undefined) line += ` sample=${e.sample}`;
  return line;
}

function logfmtValue(v: string): string {
  if (/^[^\s"=\\]+$/.test(v)) return v;
  // Quoted as JSON would quote it; only a value with quotes, backslashes or control characters needs JSON's escaping.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters JSON escapes
  return /["\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/.test(v) ? JSON.stringify(v) : `"${v}"`;
}

/**
 * Access lines bypass consola (far too slow for one line per request) and go, batched, to
 * stderr in the same shapes as the other log lines: `[info] …` or one JSON object.
 * `hitsPerLine` above 1 writes one line per that many successful cache hits (the rest of
 * them are counted in the metrics, not logged), and every other request's line as ever:
 * the lines an operator looks for (misses, writes, errors, refusals) are never sampled away.
 */
export function createAccessLog(log: Logger, format: LogFormat, hitsPerLine = 1, write: LineWriter = batchedLineWriter((chunk) => process.stderr.write(chunk))): AccessLog {
  let hits = 0;
  return (method, path, res, record, ms) => {
    if (log.level < 3) return; // below info: skip building the line at all
    const sampled = hitsPerLine !== 1 && record.cache === "HIT" && res.status < 400;
    if (sampled && ++hits % hitsPerLine !== 0) return;
    const entry = accessEntry(method, path, res, record, ms);
    if (sampled) entry.sample = hitsPerLine;
    const time = isoNow();
    if (format === "json") write(JSON.stringify({ time, level: "info", msg: `${method} ${path} ${res.status}`, access: true, ...entry }));
    else write(`${time} [info] ${formatAccessLine(entry)}`);
  };
}

let lastMs = 0;
let lastIso = "";

/** The time as ISO 8601, formatted once per millisecond however many lines share it. */
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
