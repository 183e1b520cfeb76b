import { expect, test } from "bun:test";
import { CircuitBreaker } from "../../src/upstream/circuit-breaker.ts";
import { Limiter } from "../../src/upstream/limiter.ts";
import { backoffMs, isRetryableStatus } from "../../src/upstream/retry.ts";

test("backoff grows exponentially up to the cap, with full jitter", () => {
  const policy = { attempts: 5, baseMs: 50, capMs: 300 };
  expect(backoffMs(policy, 1, () => 0.999)).toBe(49);
  expect(backoffMs(policy, 2, () => 0.999)).toBe(99);
  expect(backoffMs(policy, 4, () => 0.999)).toBe(299);
  expect(backoffMs(policy, 4, () => 0)).toBe(0);
});

test("only 500 and 503 are retryable statuses", () => {
  expect([500, 503].every(isRetryableStatus)).toBe(true);
  expect([400, 403, 404, 412, 416, 501, 502, 504].some(isRetryableStatus)).toBe(false);
});

test("the circuit opens after consecutive failures, lets one probe through after the cooldown, and closes on its success", () => {
  let now = 0;
  const b = new CircuitBreaker(3, 1000, () => now);
  b.failure();
  b.failure();
  expect(b.allow()).toBe(true);
  b.failure();
  expect(b.state).toBe("open");
  expect(b.allow()).toBe(false);
  now = 1000;
  expect(b.allow()).toBe(true);
  expect(b.allow()).toBe(false);
  b.success();
  expect(b.state).toBe("closed");
  expect(b.allow()).toBe(true);
});

test("a failed probe re-opens the circuit at once", () => {
  let now = 0;
  const b = new CircuitBreaker(1, 100, () => now);
  b.failure();
  now = 100;
  expect(b.allow()).toBe(true);
  b.failure();
  expect(b.state).toBe("open");
  expect(b.allow()).toBe(false);
});

test("the limiter admits at most its limit and hands slots over in order", async () => {
  const l = new Limiter(2);
  await l.acquire();
  await l.acquire();
  const order: number[] = [];
  const third = l.acquire().then(() => order.push(3));
  const fourth = l.acquire().then(() => order.push(4));
  expect(l.queued).toBe(2);
  l.release();
  await third;
  l.release();
  await fourth;
  expect(order).toEqual([3, 4]);
  expect(l.inUse).toBe(2);
});
