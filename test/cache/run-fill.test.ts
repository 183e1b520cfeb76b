import { expect, test } from "bun:test";
import { S3Error } from "../../src/s3/errors.ts";
import { RunFill } from "../../src/cache/run-fill.ts";

function bytes(n: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 255);
}

function recordingRun(lengths: number[]) {
  const stored: Uint8Array[] = [];
  let failures = 0;
  const run = new RunFill(lengths, { complete: (pieces) => stored.push(...pieces), failed: () => failures++ });
  return { run, stored, failures: () => failures };
}

const joined = (pieces: readonly Uint8Array[]) => pieces.flatMap((p) => [...p]);

test("a reader of a block's first bytes is answered before the rest of the block arrives", async () => {
  const { run, stored } = recordingRun([8, 8]);
  let answered = false;
  const reading = run.blocks[0]!.reach(3).then(() => {
    answered = true;
    return joined(run.blocks[0]!.slice(0, 3));
  });
  run.push(bytes(2));
  await Bun.sleep(0);
  expect(answered).toBe(false);
  run.push(bytes(2, 2));
  expect(await reading).toEqual([0, 7, 2]);
  expect(stored).toEqual([]);
});

test("chunks that straddle blocks are split at block edges; the complete run hands over every piece, in order", () => {
  const { run, stored } = recordingRun([4, 4, 3]);
  const body = bytes(11);
  run.push(body.subarray(0, 3));
  run.push(body.subarray(3, 10));
  expect(stored).toEqual([]);
  run.push(body.subarray(10));
  run.finish();
  expect(joined(stored)).toEqual([...body]);
  expect(run.blocks.map((b) => [...b.joined()])).toEqual([[...body.subarray(0, 4)], [...body.subarray(4, 8)], [...body.subarray(8)]]);
  expect(joined(run.blocks[1]!.slice(1, 3))).toEqual([...body.subarray(5, 7)]);
});

test("arriving chunks are kept as they are, never copied", () => {
  const { run, stored } = recordingRun([4, 4]);
  const body = bytes(8);
  run.push(body);
  run.finish();
  expect(stored.every((piece) => piece.buffer === body.buffer)).toBe(true);
  expect(run.blocks[0]!.joined()).not.toBe(body);
});

test("a body longer than the run fails it and throws a BadGateway S3 error", async () => {
  const { run, failures } = recordingRun([4]);
  const whole = run.blocks[0]!.reach(4);
  expect(() => run.push(bytes(5))).toThrow(S3Error);
  expect(failures()).toBe(1);
  // The block got its 4 bytes before the excess was seen: the bytes asked for are right.
  await whole;
  expect(joined(run.blocks[0]!.slice(0, 4))).toEqual([...bytes(4)]);
});

test("a short body fails the blocks it did not complete, and only those", async () => {
  const { run, stored, failures } = recordingRun([4, 4]);
  const second = run.blocks[1]!.reach(4);
  run.push(bytes(6));
  run.finish();
  expect(failures()).toBe(1);
  expect(stored).toEqual([]);
  await expect(second).rejects.toThrow("6 bytes for a 8-byte cache fill");
  await run.blocks[0]!.reach(4);
  expect(run.blocks[0]!.received).toBe(4);
  await expect(run.blocks[1]!.reach(1)).rejects.toThrow();
});

test("a failed body rejects every waiter still waiting; a later failure after success changes nothing", async () => {
  const { run, failures } = recordingRun([4]);
  const waiting = run.blocks[0]!.reach(4);
  run.fail(new Error("connection reset"));
  await expect(waiting).rejects.toThrow("connection reset");
  const done = recordingRun([2]);
  done.run.push(bytes(2));
  done.run.finish();
  done.run.fail(new Error("late"));
  expect(done.failures()).toBe(0);
  expect(failures()).toBe(1);
});
