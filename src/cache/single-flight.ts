/**
 * One call in flight per key, in the spirit of groupcache's singleflight: whoever asks for a
 * key while its call runs joins that call and receives its outcome, the same value or the
 * same error. A caller can never be left waiting on a call that ended: the map entry and
 * the promise every caller holds are one object, settled by the call itself, and the entry
 * leaves the map when it settles. So a joined wait lasts exactly as long as the leader's
 * call, which the upstream client bounds (first-byte and idle timeouts). Values are shared,
 * so they must be replayable: data, not a Response whose body only one reader can consume.
 */
export class SingleFlight<T> {
  private readonly calls = new Map<string, Promise<T>>();

  /** The outcome of `fn`, or of the call for `key` already in flight; `joined` says which. */
  run(key: string, fn: () => Promise<T>): { outcome: Promise<T>; joined: boolean } {
    const pending = this.calls.get(key);
    if (pending) return { outcome: pending, joined: true };
    const outcome = Promise.try(fn);
    this.calls.set(key, outcome);
    const forget = () => {
      if (this.calls.get(key) === outcome) this.calls.delete(key);
    };
    outcome.then(forget, forget);
    return { outcome, joined: false };
  }

  /** Calls in flight. */
  get size(): number {
    return this.calls.size;
  }
}
