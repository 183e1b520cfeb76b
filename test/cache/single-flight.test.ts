import { expect, test } from "bun:test";
import { SingleFlight } from "../../src/cache/single-flight.ts";

test("callers of a key in flight join its one call and all receive its value", async () => {
  const flight = new SingleFlight<number>();
  let calls = 0;
  let finish!: (n: number) => void;
  const fn = () => {
    calls++;
    return new Promise<number>((r) => (finish = r));
  };
  const runs = [flight.run("k", fn), flight.run("k", fn), flight.run("k", fn)];
  expect(runs.map((r) => r.joined)).toEqual([false, true, true]);
  finish(7);
  expect(await Promise.all(runs.map((r) => r.outcome))).toEqual([7, 7, 7]);
  expect(calls).toBe(1);
});

test("every caller receives the leader's error, and the key is free again after it", async () => {
  const flight = new SingleFlight<number>();
  let fail!: (e: Error) => void;
  const a = flight.run("k", () => new Promise<number>((_, reject) => (fail = reject)));
  const b = flight.run("k", async () => 1);
  fail(new Error("backend down"));
  await expect(a.outcome).rejects.toThrow("backend down");
  await expect(b.outcome).rejects.toThrow("backend down");
  expect(flight.size).toBe(0);
  const c = flight.run("k", async () => 2);
  expect(c.joined).toBe(false);
  expect(await c.outcome).toBe(2);
});

test("a call that throws before it returns a promise still settles every caller", async () => {
  const flight = new SingleFlight<number>();
  const a = flight.run("k", () => {
    throw new Error("sync");
  });
  await expect(a.outcome).rejects.toThrow("sync");
  expect(flight.size).toBe(0);
});

test("different keys run independently", async () => {
  const flight = new SingleFlight<string>();
  const a = flight.run("a", async () => "A");
  const b = flight.run("b", async () => "B");
  expect([a.joined, b.joined]).toEqual([false, false]);
  expect([await a.outcome, await b.outcome]).toEqual(["A", "B"]);
});
