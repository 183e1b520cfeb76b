/**
 * Hedged requests against tail latency: if the first attempt has not finished after a
 * delay, start an identical second one and take whichever finishes first, cancelling the
 * other. The delay is fixed, or "auto": the p99 of recently observed fill times.
 */

/** Fill durations seen recently, for an automatic hedge delay. */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly capacity = 256) {}

  add(ms: number): void {
    if (this.samples.length < this.capacity) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The 99th percentile, or undefined until enough samples make it meaningful. */
  p99(): number | undefined {
    if (this.samples.length < 20) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
  }
}

export type HedgeDelay = number | "auto" | undefined;

export interface HedgeOutcome<T> {
  value: T;
  hedged: boolean;
}

export async function hedge<T>(attempt: (signal: AbortSignal) => Promise<T>, delayMs: number | undefined): Promise<HedgeOutcome<T>> {
  const first = new AbortController();
  const p1 = attempt(first.signal);
  if (delayMs === undefined) return { value: await p1, hedged: false };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), delayMs)));
  const winner = await Promise.race([p1.then((v) => ({ v })), late]).finally(() => clearTimeout(timer));
  if (winner !== "late") return { value: winner.v, hedged: false };
  const second = new AbortController();
  const p2 = attempt(second.signal);
  // Whichever attempt answers first cancels the other.
  const winning = (p: Promise<T>, loser: AbortController) =>
    p.then((v) => {
      loser.abort();
      return v;
    });
  const value = await Promise.any([winning(p1, second), winning(p2, first)]).catch((e: AggregateError) => {
    throw e.errors[0];
  });
  return { value, hedged: true };
}
