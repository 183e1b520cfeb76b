/**
 * The fuzzer's operations as plain values, their fast-check arbitraries (which shrink them)
 * and a one-line-per-operation rendering for failure reports. Keys are indexes: 0..2 exist
 * when a sequence starts, 3 does not until something writes it.
 */
import fc from "fast-check";

export const KEYS = 4;

/** A precondition header; its value is resolved when the request is sent, against the backend's state then. */
export type Cond = { h: "if-match" | "if-none-match"; v: "current" | "other" | "*" } | { h: "if-modified-since" | "if-unmodified-since"; v: "lm" | "lm-1s" | "old" };

export interface Read {
  m: "GET" | "HEAD";
  k: number;
  range?: string;
  cond?: Cond[];
}

export type FaultKind = 403 | 500 | 503 | "slow" | "stall" | "cut";

export type Op =
  | { t: "read"; r: Read }
  /** Requests sent together, all in flight at once. */
  | { t: "burst"; rs: Read[] }
  | { t: "put"; k: number; size: number; seed: number; via: "proxy" | "backend" }
  | { t: "delete"; k: number; via: "proxy" | "backend" }
  /** The backend answers every GET/HEAD of key k with the fault while the burst runs. */
  | { t: "fault"; k: number; f: FaultKind; rs: Read[] }
  | { t: "wait"; ms: number }
  | { t: "restart" };

export interface Sequence {
  /** Sizes of keys 0..2 at the start. */
  init: number[];
  ops: Op[];
}

export interface Shape {
  blockSize: number;
  /** Largest object generated. */
  maxSize: number;
  metaTtlMs: number;
  faults: FaultKind[];
  restarts: boolean;
}

export function arbitraries(s: Shape) {
  const B = s.blockSize;
  const size = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(0, 1, B - 1, B, B + 1, 3 * B + 5) }, { weight: 3, arbitrary: fc.integer({ min: 0, max: s.maxSize }) });
  const blocks = Math.ceil(s.maxSize / B) + 1;
  // Offsets near block boundaries are where extents meet, so they are drawn more often.
  const pos = fc.oneof(
    fc.integer({ min: 0, max: s.maxSize + 2 }),
    fc.tuple(fc.nat(blocks), fc.integer({ min: -1, max: 1 })).map(([b, d]) => Math.max(0, b * B + d)),
  );
  const range = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(pos, fc.oneof(fc.nat(4), fc.nat(3 * B))).map(([a, n]) => `bytes=${a}-${a + n}`) },
    { weight: 2, arbitrary: pos.map((a) => `bytes=${a}-`) },
    { weight: 2, arbitrary: fc.oneof(fc.nat(8), fc.nat(s.maxSize + 2)).map((n) => `bytes=-${n}`) },
    { weight: 1, arbitrary: fc.constantFrom("bytes=0-0", "bytes=0-", "bytes=0-1,5-9", `bytes=0-${B - 1},${B}-${2 * B}`, "bytes=abc", "bytes=9-3", "bytes=-") },
  );
  const cond: fc.Arbitrary<Cond> = fc.oneof(
    fc.record({ h: fc.constantFrom("if-match" as const, "if-none-match" as const), v: fc.constantFrom("current" as const, "other" as const, "*" as const) }),
    fc.record({ h: fc.constantFrom("if-modified-since" as const, "if-unmodified-since" as const), v: fc.constantFrom("lm" as const, "lm-1s" as const, "old" as const) }),
  );
  const key = fc.nat(KEYS - 1);
  const read = (k: fc.Arbitrary<number>): fc.Arbitrary<Read> =>
    fc.record(
      {
        m: fc.constantFrom("GET" as const, "GET" as const, "GET" as const, "HEAD" as const),
        k,
        range: fc.option(range, { nil: undefined, freq: 4 }),
        cond: fc.option(fc.array(cond, { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 6 }),
      },
      { requiredKeys: ["m", "k"] },
    );
  // A burst is the same request several times (coalescing) or several reads of one key (overlapping ranges), or of any keys.
  const burstOf = (k: fc.Arbitrary<number>) =>
    fc.oneof(
      fc.tuple(read(k), fc.integer({ min: 2, max: 8 })).map(([r, n]) => Array.from({ length: n }, () => r)),
      k.chain((one) => fc.array(read(fc.constant(one)), { minLength: 2, maxLength: 8 })),
      fc.array(read(k), { minLength: 2, maxLength: 8 }),
    );
  const ops: Array<fc.WeightedArbitrary<Op>> = [
    { weight: 10, arbitrary: read(key).map((r) => ({ t: "read" as const, r })) },
    { weight: 8, arbitrary: burstOf(key).map((rs) => ({ t: "burst" as const, rs })) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant("put" as const), k: key, size, seed: fc.nat(1000), via: fc.constantFrom("proxy" as const, "backend" as const) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("delete" as const), k: key, via: fc.constantFrom("proxy" as const, "backend" as const) }) },
    { weight: 1, arbitrary: fc.constantFrom(s.metaTtlMs / 2, s.metaTtlMs + 50).map((ms) => ({ t: "wait" as const, ms: Math.round(ms) })) },
  ];
  if (s.faults.length > 0) {
    const fault = fc.record({ t: fc.constant("fault" as const), k: key, f: fc.constantFrom(...s.faults) });
    // A stall costs a first-byte timeout per attempt: keep its bursts short, and under the circuit breaker's threshold.
    ops.push({ weight: 2, arbitrary: fault.chain((f) => (f.f === "stall" ? fc.array(read(fc.constant(f.k)), { minLength: 1, maxLength: 2 }) : burstOf(fc.constant(f.k))).map((rs) => ({ ...f, rs }))) });
  }
  if (s.restarts) ops.push({ weight: 1, arbitrary: fc.constant({ t: "restart" as const }) });
  return (length: number): fc.Arbitrary<Sequence> => fc.record({ init: fc.array(size, { minLength: 3, maxLength: 3 }), ops: fc.array(fc.oneof(...ops), { minLength: 1, maxLength: length, size: "max" }) });
}

function readText(r: Read): string {
  const conds = (r.cond ?? []).map((c) => ` ${c.h}:${c.v}`).join("");
  return `${r.m} k${r.k}${r.range ? ` range:${r.range}` : ""}${conds}`;
}

/** One line per operation, as a reader would replay it. */
export function formatSequence(seq: Sequence): string {
  const lines = [`init sizes k0=${seq.init[0]} k1=${seq.init[1]} k2=${seq.init[2]} (k3 absent)`];
  for (const [i, op] of seq.ops.entries()) {
    const n = String(i).padStart(3);
    switch (op.t) {
      case "read":
        lines.push(`${n} ${readText(op.r)}`);
        break;
      case "burst":
        lines.push(`${n} burst [${op.rs.map(readText).join(" | ")}]`);
        break;
      case "fault":
        lines.push(`${n} fault k${op.k}=${op.f} during [${op.rs.map(readText).join(" | ")}]`);
        break;
      case "put":
        lines.push(`${n} PUT k${op.k} size=${op.size} seed=${op.seed} via ${op.via}`);
        break;
      case "delete":
        lines.push(`${n} DELETE k${op.k} via ${op.via}`);
        break;
      case "wait":
        lines.push(`${n} wait ${op.ms}ms`);
        break;
      case "restart":
        lines.push(`${n} restart proxy`);
        break;
    }
  }
  return lines.join("\n");
}

/** Requests a sequence sends (the fuzzer's unit of work). */
export function requestCount(seq: Sequence): number {
  return seq.ops.reduce((n, op) => n + (op.t === "read" || op.t === "put" || op.t === "delete" ? 1 : op.t === "burst" || op.t === "fault" ? op.rs.length : 0), 0);
}
