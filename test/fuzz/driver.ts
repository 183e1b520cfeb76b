/**
 * Runs fuzz sequences against the real proxy process in front of the reference backend and
 * checks every answer against the model (test/support/s3-model.ts):
 *  - status, ETag, Last-Modified and Content-Range as S3 would give them, the body byte-exact,
 *    and a GET's Content-Length equal to the body it came with;
 *  - the answer must match ONE state of the key (no body mixes two versions) that was current
 *    at some moment in [sent - staleness - SLACK_MS, answered], where staleness is the
 *    configured --meta-ttl (the proxy trusts metadata that long) and SLACK_MS covers the time
 *    between the backend answering and the proxy recording what it learned;
 *  - errors only where a fault was injected (or ended less than a hang bound before): the
 *    fault's own status (or 502/503 for a 5xx, 502/503/504 for a stall, 502 or a broken
 *    connection for a body cut off); 503 from an open circuit briefly after a stall;
 *  - an answer that takes longer than HANG_MS is a hang.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answer, type Answer, type ObjectState } from "../support/s3-model.ts";
import { startReferenceBackend, type Fault, type ReferenceBackend } from "../support/reference-backend.ts";
import { randomBytes } from "../support/clients.ts";
import { spawnProxy, type SpawnedProxy } from "../support/spawn.ts";
import { startRedis, type TestRedis } from "../support/redis.ts";
import { startRedisCluster, type TestRedisCluster } from "../support/redis-cluster.ts";
import type { Cond, FaultKind, Op, Read, Sequence, Shape } from "./ops.ts";

const SLACK_MS = 1000;
/** The status recorded for an answer whose connection broke before its body was whole. */
const BROKEN = 0;
/** The circuit breaker's cooldown (src/upstream/client.ts) plus slack. */
const CIRCUIT_MS = 2500;

export interface FuzzConfig extends Shape {
  name: string;
  /** Proxy flags beyond the common ones. */
  args: string[];
  firstByteTimeoutMs: number;
  /** A disk tier in a fresh directory, kept across restarts. */
  disk?: boolean;
  /** A shared tier: one redis-server, or a real 3-master Redis Cluster. */
  redis?: "server" | "cluster";
  /** Only in longer campaigns (`bun run fuzz`), not in CI's budget. */
  extended?: boolean;
  /** Keys named `*.parquet`, with footer prefetch on: HEADs are discovered with a suffix GET, and every discovery starts a prefetch. */
  parquet?: boolean;
}

export function hangBoundMs(c: FuzzConfig): number {
  // A stalled backend makes the proxy wait a first-byte timeout per attempt (two); without
  // stalls a correct answer never comes near one timeout. Plus margin for a loaded machine.
  return (c.faults.includes("stall") ? 2 : 1) * c.firstByteTimeoutMs + 1500;
}

/** The backend, the proxy process in front of it, and what a restart keeps (the disk tier's directory). */
export class FuzzTarget {
  backend!: ReferenceBackend;
  proxy!: SpawnedProxy;
  private dir?: string;
  private redis?: TestRedis | TestRedisCluster;
  /** When a stall fault last ended: the circuit breaker may be open for a while after (shared by all lanes). */
  stalledAt = -Infinity;
  stalling = 0;

  constructor(readonly config: FuzzConfig) {}

  async start(): Promise<void> {
    this.backend = startReferenceBackend();
    if (this.config.disk) this.dir = mkdtempSync(join(tmpdir(), "s3proxy-fuzz-"));
    if (this.config.redis) this.redis = this.config.redis === "cluster" ? await startRedisCluster() : await startRedis();
    this.proxy = await this.spawn();
  }

  private spawn(): Promise<SpawnedProxy> {
    const c = this.config;
    const args = ["--endpoint", this.backend.endpoint, c.parquet ? "--prefetch" : "--no-prefetch", "--no-serve-stale-on-error", "--first-byte-timeout", `${c.firstByteTimeoutMs}ms`, "--retries", "2", "--shutdown-timeout", "1s"];
    args.push("--block-size", String(c.blockSize), "--meta-ttl", `${c.metaTtlMs}ms`, "--negative-ttl", `${c.metaTtlMs}ms`, ...c.args);
    if (this.dir) args.push("--cache-dir", this.dir);
    if (this.redis) args.push(...("seeds" in this.redis ? ["--redis-cluster", this.redis.seeds] : ["--redis-url", this.redis.url]));
    return spawnProxy(args, { AWS_ACCESS_KEY_ID: "fuzz", AWS_SECRET_ACCESS_KEY: "fuzz-secret" });
  }

  async restart(): Promise<void> {
    await this.proxy.stop();
    this.proxy = await this.spawn();
  }

  async stop(): Promise<void> {
    await this.proxy?.stop();
    await this.redis?.stop();
    await this.backend?.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Deterministic object bytes for a (seed, size): two sizes of one seed differ from their first byte. */
export function contentFor(seed: number, size: number): Uint8Array {
  return randomBytes(size, (seed * 2654435761 + size + 1) >>> 0);
}

interface Observed {
  status: number;
  headers: Headers;
  body: Uint8Array;
  sent: number;
  answered: number;
  /** Why the connection broke (status BROKEN). */
  error?: string;
}

const OLD_DATE = "Sat, 01 Jan 2000 00:00:00 GMT";

function condValue(c: Cond, now: ObjectState | undefined): string {
  switch (c.v) {
    case "current":
      return now?.etag ?? '"00000000000000000000000000000000"';
    case "other":
      return '"ffffffffffffffffffffffffffffffff"';
    case "*":
      return "*";
    case "lm":
      return now?.lastModified ?? OLD_DATE;
    case "lm-1s":
      return now ? new Date(Date.parse(now.lastModified) - 1000).toUTCString() : OLD_DATE;
    case "old":
      return OLD_DATE;
  }
}

/** Statuses an injected fault lets the proxy answer with instead of a model answer. */
function faultStatuses(f: FaultKind): number[] {
  if (f === 403) return [403];
  if (f === 500 || f === 503) return [f, 502, 503];
  if (f === "stall") return [502, 503, 504];
  // A cache read asks again once, then answers 502; a forwarded body breaks off at the client (BROKEN).
  if (f === "cut") return [502, BROKEN];
  return [];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** Why an observed answer is not the model's answer for one state; undefined when it is. */
function mismatch(exp: Answer, got: Observed, method: string): string | undefined {
  if (got.status !== exp.status) return `status ${got.status}, expected ${exp.status}`;
  for (const h of ["etag", "last-modified", "content-range"] as const) {
    const want = exp.headers[h];
    if (want !== undefined && got.headers.get(h) !== want) return `${h} ${got.headers.get(h)}, expected ${want}`;
  }
  if (method === "HEAD") {
    if (exp.status === 200 && got.headers.get("content-length") !== exp.headers["content-length"]) return `content-length ${got.headers.get("content-length")}, expected ${exp.headers["content-length"]}`;
    return got.body.length > 0 ? `a HEAD answer with a ${got.body.length}-byte body` : undefined;
  }
  const length = got.headers.get("content-length");
  if (length === null ? got.status === 200 || got.status === 206 : Number(length) !== got.body.length) return `content-length ${length} but the body has ${got.body.length} bytes`;
  if (exp.code) return new TextDecoder().decode(got.body).includes(`<Code>${exp.code}</Code>`) ? undefined : `error body without <Code>${exp.code}</Code>`;
  if (!sameBytes(got.body, exp.body)) {
    let at = 0;
    while (at < got.body.length && got.body[at] === exp.body[at]) at++;
    return `body differs from byte ${at} (${got.body.length} bytes, expected ${exp.body.length})`;
  }
  return undefined;
}

function describeState(s: ObjectState | undefined): string {
  return s ? `${s.etag.slice(0, 9)}…" size ${s.bytes.length}` : "absent";
}

export class FuzzFailure extends Error {}

/** Runs one sequence on fresh keys, throwing FuzzFailure at the first wrong answer. */
export class SequenceRunner {
  /**
   * Faults by key path, with when they ended (Infinity while active). A fault still counts
   * for a hang bound after it ends: a later read may join a fill the proxy started during it.
   */
  private readonly faults = new Map<string, { kind: FaultKind; until: number }>();
  requests = 0;

  constructor(
    private readonly target: FuzzTarget,
    /** Unique per sequence run, so runs (and concurrent lanes) never share a key. */
    private readonly run: string,
  ) {}

  private path(k: number): string {
    return `fuzz/${this.run}/k${k}${this.target.config.parquet ? ".parquet" : ""}`;
  }

  async execute(seq: Sequence): Promise<void> {
    const backend = this.target.backend;
    for (const [k, size] of seq.init.entries()) backend.put(this.path(k), contentFor(1000 + k, size));
    try {
      for (let i = 0; i < seq.ops.length; i++) await this.step(seq.ops[i]!, i);
    } finally {
      backend.forget(`fuzz/${this.run}/`);
    }
  }

  private async step(op: Op, i: number): Promise<void> {
    const backend = this.target.backend;
    switch (op.t) {
      case "read":
        return this.reads([op.r], i);
      case "burst":
        return this.reads(op.rs, i);
      case "fault": {
        const path = this.path(op.k);
        const fault: Fault = typeof op.f === "number" ? { kind: "status", status: op.f } : op.f === "cut" ? { kind: "cut" } : { kind: "delay", ms: op.f === "slow" ? 150 : this.target.config.firstByteTimeoutMs + 300 };
        backend.setFault(path, fault);
        this.faults.set(path, { kind: op.f, until: Infinity });
        if (op.f === "stall") this.target.stalling++;
        try {
          await this.reads(op.rs, i);
        } finally {
          backend.setFault(path, undefined);
          this.faults.set(path, { kind: op.f, until: performance.now() });
          if (op.f === "stall") {
            this.target.stalling--;
            this.target.stalledAt = performance.now();
          }
        }
        return;
      }
      case "put": {
        const bytes = contentFor(op.seed, op.size);
        if (op.via === "backend") return void backend.put(this.path(op.k), bytes);
        this.requests++;
        const res = await this.fetch(op.k, { method: "PUT", body: bytes });
        const want = new Bun.CryptoHasher("md5").update(bytes).digest("hex");
        if (res.status !== 200 || res.headers.get("etag") !== `"${want}"`) throw new FuzzFailure(`op ${i}: PUT through the proxy answered ${res.status} etag ${res.headers.get("etag")}`);
        return;
      }
      case "delete": {
        if (op.via === "backend") return backend.delete(this.path(op.k));
        this.requests++;
        const res = await this.fetch(op.k, { method: "DELETE" });
        if (res.status !== 204) throw new FuzzFailure(`op ${i}: DELETE through the proxy answered ${res.status}`);
        return;
      }
      case "wait":
        // Waiting out (part of) the meta TTL is the subject under test.
        return Bun.sleep(op.ms);
      case "restart":
        return this.target.restart();
    }
  }

  private async fetch(k: number, init: RequestInit): Promise<Response> {
    const res = await fetch(`${this.target.proxy.endpoint}/${this.path(k)}`, { ...init, signal: AbortSignal.timeout(hangBoundMs(this.target.config)) });
    await res.arrayBuffer();
    return res;
  }

  /** Sends the reads all at once, waits for every answer, then reports the first wrong one. */
  private async reads(rs: Read[], i: number): Promise<void> {
    this.requests += rs.length;
    const problems = await Promise.all(rs.map((r) => this.read(r)));
    const n = problems.findIndex((p) => p !== undefined);
    if (n !== -1) throw new FuzzFailure(`op ${i}${rs.length > 1 ? ` request ${n} of ${rs.length}` : ""}: ${problems[n]}`);
  }

  private async read(r: Read): Promise<string | undefined> {
    const backend = this.target.backend;
    const path = this.path(r.k);
    const now = backend.current(path);
    const headers = new Headers();
    if (r.range !== undefined) headers.set("range", r.range);
    for (const c of r.cond ?? []) headers.set(c.h, condValue(c, now));
    const request = `${r.m} k${r.k} [${[...headers].map(([k, v]) => `${k}: ${v}`).join("; ")}]`;
    const bound = hangBoundMs(this.target.config);
    const sent = performance.now();
    let got: Observed;
    try {
      const res = await fetch(`${this.target.proxy.endpoint}/${path}`, { method: r.m, headers, signal: AbortSignal.timeout(bound) });
      got = { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()), sent, answered: performance.now() };
    } catch (err) {
      if ((err as Error).name === "TimeoutError") return `${request}: no answer within ${bound} ms (hang)`;
      got = { status: BROKEN, headers: new Headers(), body: new Uint8Array(0), sent, answered: performance.now(), error: (err as Error).message };
    }
    const staleness = this.target.config.metaTtlMs;
    const states = backend.statesWithin(path, sent - staleness - SLACK_MS, got.answered);
    const reasons = states.map((s) => mismatch(answer(s, r.m, headers), got, r.m));
    if (reasons.some((m) => m === undefined)) return undefined;
    const recorded = this.faults.get(path);
    const fault = recorded && sent < recorded.until + bound ? recorded.kind : undefined;
    if (fault !== undefined && faultStatuses(fault).includes(got.status)) return undefined;
    if (got.status === 503 && (this.target.stalling > 0 || sent < this.target.stalledAt + CIRCUIT_MS)) return undefined;
    const cache = got.headers.get("x-cache");
    const detail = states.map((s, n) => `${describeState(s)}: ${reasons[n]}`).join("; ");
    return `${request} → ${got.error !== undefined ? `broken connection (${got.error})` : got.status}${cache ? ` x-cache ${cache}` : ""}${fault !== undefined ? ` (fault ${fault})` : ""}; against each state current then: ${detail}`;
  }
}
