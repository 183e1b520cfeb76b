/**
 * Waiting for what pub/sub promises: a write through one proxy is heard by the others sharing
 * a tier soon after it answers, not before (each subscriber reads the message on its own
 * time). Tests that check "every proxy serves the write" wait for that, not for a clock.
 */
import type { CacheTier } from "../../src/cache/tier.ts";

/** Notes what each tier has heard so far; the returned wait resolves once each has heard `n` more. */
export function hearing(tiers: readonly CacheTier[]): (n: number) => Promise<void> {
  const before = tiers.map((t) => t.counters.heard);
  return async (n) => {
    for (const [i, tier] of tiers.entries()) while (tier.counters.heard < before[i]! + n) await new Promise((r) => setImmediate(r));
  };
}
