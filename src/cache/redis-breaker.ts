/**
 * The circuit breaker of one Redis server (the single node, or one cluster master): a call
 * runs within the timeout; one that fails or times out is a miss, and the server is then
 * skipped (calls answer as misses at once) for the retry period, so a dead or hung server
 * costs at most one timeout per retry period. Failures are counted and logged once per
 * outage (TierHealth). A cluster keeps one breaker per master, so a dead master costs only
 * the keys in its slots.
 */
import type { TierCounters, TierLog } from "./tier.ts";
import { TierHealth } from "./tier.ts";

export class RedisBreaker {
  private readonly health: TierHealth;
  private skipUntil = 0;
  private tripped = false;

  constructor(
    name: string,
    log: TierLog,
    private readonly counters: TierCounters,
    private readonly timeoutMs: number,
    private readonly retryAfterMs: number,
    private readonly now: () => number,
  ) {
    this.health = new TierHealth(name, log, counters);
  }

  /** Skipped for now: calls are misses without being tried. */
  get open(): boolean {
    return this.now() < this.skipUntil;
  }

  /** Tripped once and the retry period is over: the next call is a trial (callers may refresh routing first). */
  get due(): boolean {
    return this.tripped && !this.open;
  }

  /** Run `op` within the timeout; undefined when it fails, times out, or the breaker is open. */
  async run<T>(op: () => Promise<T>): Promise<T | undefined> {
    if (this.open) {
      this.counters.failures++; // a miss because the server is down: counted, not logged again
      return undefined;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const result = await Promise.race([op(), timeout]);
      this.ok();
      return result ?? undefined;
    } catch (err) {
      this.fail(err);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  ok(): void {
    this.tripped = false;
    this.health.ok();
  }

  fail(err: unknown): void {
    this.tripped = true;
    this.health.failed(err);
    this.skipUntil = this.now() + this.retryAfterMs;
  }
}
