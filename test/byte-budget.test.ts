import { expect, test } from "bun:test";
import { ByteBudget } from "../src/byte-budget.ts";

test("takes beyond the budget wait, and are admitted in arrival order as bytes are released", async () => {
  const budget = new ByteBudget(100);
  const first = await budget.acquire(60);
  const admitted: string[] = [];
  const admit = (name: string, n: number) => {
    admitted.push(name);
    return n;
  };
  const big = budget.acquire(50).then((n) => admit("big", n));
  const small = budget.acquire(10).then((n) => admit("small", n));
  await Bun.sleep(1);
  expect(admitted).toEqual([]);
  budget.release(first);
  expect(await big).toBe(50);
  expect(await small).toBe(10);
  expect(admitted).toEqual(["big", "small"]);
  expect(budget.inUse).toBe(60);
});

test("a take larger than the whole budget takes all of it instead of waiting forever", async () => {
  const budget = new ByteBudget(100);
  expect(await budget.acquire(500)).toBe(100);
  expect(budget.inUse).toBe(100);
  budget.release(100);
  expect(budget.inUse).toBe(0);
});

test("tryAcquire takes room only when there is some now and no one is waiting for it", async () => {
  const budget = new ByteBudget(100);
  expect(budget.tryAcquire(60)).toBe(60);
  expect(budget.tryAcquire(50)).toBeUndefined();
  const waiting = budget.acquire(50);
  expect(budget.tryAcquire(10)).toBeUndefined(); // room for 10, but a take waits first
  budget.release(60);
  expect(await waiting).toBe(50);
  expect(budget.tryAcquire(50)).toBe(50);
  expect(budget.inUse).toBe(100);
});
