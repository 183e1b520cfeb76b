/**
 * When to ask the runtime for a full garbage collection. The bytes the cache drops (blocks
 * evicted, extents merged or replaced) and the bodies the proxy buffered and sent are native
 * memory held by JavaScript objects; the cached ones have mostly lived long enough to be old,
 * so only a full collection frees them, and the collector does not schedule one for memory
 * growth it does not see. Under churn the resident set then grows by the cache's turnover,
 * not its size. A collection is due once `every` more such bytes were dropped since the last
 * one: a workload of hits drops nothing and never pays for one. Pure; the caller collects.
 */
export class CollectionPacer {
  private last = 0;

  constructor(readonly every: number) {}

  /** Whether to collect now, given the bytes dropped so far (a running total). */
  due(dropped: number): boolean {
    if (dropped - this.last < this.every) return false;
    this.last = dropped;
    return true;
  }
}
