import { expect, test } from "bun:test";
import fc from "fast-check";
import { LruStore } from "../../src/cache/lru.ts";

const bytes = (n: number) => new Uint8Array(n);

test("evicts least recently used entries first and counts evictions", () => {
  const lru = new LruStore(30);
  lru.set("a", bytes(10));
  lru.set("b", bytes(10));
  lru.set("c", bytes(10));
  lru.get("a");
  lru.set("d", bytes(10));
  expect(lru.has("b")).toBe(false);
  expect(lru.has("a") && lru.has("c") && lru.has("d")).toBe(true);
  expect(lru.evictions).toBe(1);
  expect(lru.bytesHeld).toBe(30);
});

test("a value larger than the limit is not stored", () => {
  const lru = new LruStore(10);
  lru.set("big", bytes(11));
  expect(lru.has("big")).toBe(false);
  expect(lru.bytesHeld).toBe(0);
});

test("reservations count against the limit and refuse what can never fit", () => {
  const lru = new LruStore(100);
  lru.set("a", bytes(60));
  expect(lru.reserve(50)).toBe(true);
  expect(lru.has("a")).toBe(false);
  expect(lru.reserve(60)).toBe(false);
  lru.set("filled", bytes(50), 50);
  expect(lru.bytesReserved).toBe(0);
  expect(lru.bytesHeld).toBe(50);
});

test("held plus reserved bytes never exceed the limit under any sequence of operations", () => {
  const op = fc.oneof(
    fc.record({ t: fc.constant("set" as const), k: fc.integer({ min: 0, max: 20 }), n: fc.integer({ min: 0, max: 400 }) }),
    fc.record({ t: fc.constant("get" as const), k: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ t: fc.constant("reserve" as const), n: fc.integer({ min: 0, max: 400 }) }),
    fc.record({ t: fc.constant("delete" as const), k: fc.integer({ min: 0, max: 20 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const lru = new LruStore(1000);
      const reservations: number[] = [];
      for (const o of ops) {
        if (o.t === "set") {
          const r = reservations.pop() ?? 0;
          lru.set(String(o.k), bytes(Math.min(o.n, r || o.n)), r ? Math.min(o.n, r) : 0);
          if (r > o.n) lru.release(r - o.n);
        } else if (o.t === "get") lru.get(String(o.k));
        else if (o.t === "reserve") {
          if (lru.reserve(o.n)) reservations.push(o.n);
        } else lru.delete(String(o.k));
        if (lru.bytesHeld + lru.bytesReserved > 1000 || lru.bytesHeld < 0 || lru.bytesReserved < 0) return false;
      }
      return true;
    }),
  );
});

test("every value leaving the store is reported once: evicted, replaced or deleted", () => {
  const removed: string[] = [];
  const lru = new LruStore(20, (key, value) => removed.push(`${key}:${value.byteLength}`));
  lru.set("a", bytes(10));
  lru.set("b", bytes(10));
  lru.set("a", bytes(5));
  lru.set("c", bytes(10));
  lru.delete("c");
  expect(removed).toEqual(["a:10", "b:10", "c:10"]);
  expect(lru.bytesHeld).toBe(5);
});

test("bytesRemoved counts every value that left the store: evicted, replaced or deleted", () => {
  const lru = new LruStore(30);
  lru.set("a", bytes(10));
  lru.set("b", bytes(20));
  lru.set("c", bytes(5)); // evicts a
  lru.set("b", bytes(4)); // replaces b
  lru.delete("c");
  expect(lru.bytesRemoved).toBe(10 + 20 + 5);
  expect(lru.bytesHeld).toBe(4);
});
