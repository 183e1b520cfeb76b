/**
 * The most frequent items of an unbounded stream in bounded memory: the Space-Saving
 * algorithm (Metwally, Agrawal, El Abbadi, 2005). At most `capacity` items are tracked;
 * a new item replaces the least counted one and inherits its count, so a count may
 * overstate an item by at most `error` (the count it inherited), never understate it.
 * Any item seen more than total/capacity times is guaranteed to be tracked.
 */

export interface TopEntry {
  item: string;
  count: number;
  /** Upper bound on how much `count` overstates the true count. */
  error: number;
}

export class TopN {
  private readonly entries = new Map<string, { count: number; error: number }>();

  constructor(readonly capacity: number) {
    if (capacity < 1) throw new Error("capacity must be at least 1");
  }

  add(item: string): void {
    const entry = this.entries.get(item);
    if (entry) {
      entry.count++;
      return;
    }
    if (this.entries.size < this.capacity) {
      this.entries.set(item, { count: 1, error: 0 });
      return;
    }
    // Linear scan for the minimum: capacity is small (tens to hundreds), and this runs only for unseen items.
    let minItem = "";
    let min = Infinity;
    for (const [k, v] of this.entries) {
      if (v.count < min) {
        min = v.count;
        minItem = k;
      }
    }
    this.entries.delete(minItem);
    this.entries.set(item, { count: min + 1, error: min });
  }

  /** The `n` most counted items, highest first (ties by name, so the order is stable). */
  top(n: number): TopEntry[] {
    return [...this.entries]
      .map(([item, v]) => ({ item, count: v.count, error: v.error }))
      .sort((a, b) => b.count - a.count || (a.item < b.item ? -1 : 1))
      .slice(0, n);
  }
}
