/**
 * Bytes of cache fills in flight, bounded: a fill waits for room before it asks the
 * backend, so a burst of cold reads queues instead of holding an unbounded number of blocks
 * in memory at once (each in-flight block briefly exists as the fetched buffer, the stored
 * copy and the response). A fill larger than the whole budget takes all of it.
 */
export class FillBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; go: () => void }> = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  async acquire(bytes: number): Promise<number> {
    const take = Math.min(bytes, this.limit);
    if (this.waiting.length === 0 && this.used + take <= this.limit) {
      this.used += take;
      return take;
    }
    await new Promise<void>((go) => this.waiting.push({ bytes: take, go }));
    return take;
  }

  /** Take `bytes` only if there is room now and no fill is waiting; undefined otherwise. */
  tryAcquire(bytes: number): number | undefined {
    if (this.waiting.length > 0 || this.used + bytes > this.limit) return undefined;
    this.used += bytes;
    return bytes;
  }

  release(taken: number): void {
    this.used -= taken;
    // First come, first served: a large fill at the head is not overtaken by small ones.
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.limit) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.go();
    }
  }
}
