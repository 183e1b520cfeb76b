/**
 * Bytes in flight, bounded: whoever is about to hold bytes waits for room first, so a burst
 * queues instead of holding an unbounded amount of memory at once. The cache's fills take
 * from one before they ask the backend (each in-flight block briefly exists as the fetched
 * buffer, the stored copy and the response); the relay takes from another before it reads a
 * body whole to answer it with an exact Content-Length. A take larger than the whole budget
 * takes all of it. Admitted in arrival order.
 */
export class ByteBudget {
  private used = 0;
  /** Bytes of every take so far (each is garbage once its holder is done; see collection-pacer.ts). */
  bytesAdmitted = 0;
  private readonly waiting: Array<{ bytes: number; go: () => void }> = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes waiting for room. */
  get queued(): number {
    return this.waiting.length;
  }

  async acquire(bytes: number): Promise<number> {
    const take = Math.min(bytes, this.limit);
    this.bytesAdmitted += take;
    if (this.waiting.length === 0 && this.used + take <= this.limit) {
      this.used += take;
      return take;
    }
    await new Promise<void>((go) => this.waiting.push({ bytes: take, go }));
    return take;
  }

  /** Take `bytes` only if there is room now and no one is waiting; undefined otherwise. */
  tryAcquire(bytes: number): number | undefined {
    if (this.waiting.length > 0 || this.used + bytes > this.limit) return undefined;
    this.used += bytes;
    this.bytesAdmitted += bytes;
    return bytes;
  }

  release(taken: number): void {
    this.used -= taken;
    // First come, first served: a large take at the head is not overtaken by small ones.
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.limit) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.go();
    }
  }
}
