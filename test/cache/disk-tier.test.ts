/**
 * The disk tier on a real filesystem: the tier contract, then what only a disk does —
 * checksummed block files, survival across a reopen, leftovers of a crash, the size bound
 * on disk, one process per directory.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BLOCK_HEADER, CacheDirLocked, DiskTier } from "../../src/cache/disk-tier.ts";
import { keyDigest, type CacheTier } from "../../src/cache/tier.ts";
import { randomBytes } from "../support/clients.ts";
import { tierContract } from "../support/tier-contract.ts";

const dirs: string[] = [];
const silent = { warn() {}, info() {} };
const NS = "http://127.0.0.1:9000/";

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "disk-tier-"));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const open = (dir: string, limitBytes = 64 * 1024 ** 2, namespace = NS) => DiskTier.open({ dir, limitBytes, namespace, log: silent });

/** Bytes of every file under the tier's blocks/ and meta/ directories. */
function bytesOnDisk(dir: string): number {
  let total = 0;
  for (const kind of ["blocks", "meta"]) {
    for (const sub of readdirSync(join(dir, kind))) for (const f of readdirSync(join(dir, kind, sub))) total += statSync(join(dir, kind, sub, f)).size;
  }
  return total;
}

function blockPath(dir: string, key: string, namespace = NS): string {
  const hex = keyDigest(namespace, key).toString("hex");
  return join(dir, "blocks", hex.slice(0, 2), hex);
}

const BOUND = 4 * 1024 ** 2;
const tierDirs = new Map<CacheTier, string>();
tierContract("disk", () => ({
  async open() {
    const dir = freshDir();
    const tier = await open(dir, BOUND);
    tierDirs.set(tier, dir);
    return tier;
  },
  bound: BOUND,
  held: async (tier) => Math.max((tier as DiskTier).bytesHeld, bytesOnDisk(tierDirs.get(tier)!)),
}));

describe("block files", () => {
  test("a block file with one flipped byte is a miss and is deleted", async () => {
    const dir = freshDir();
    const tier = await open(dir);
    const bytes = randomBytes(50_000, 5);
    tier.putBlock("k", bytes);
    await tier.flush();
    const path = blockPath(dir, "k");
    const file = readFileSync(path);
    file[BLOCK_HEADER + 1234]! ^= 0x01;
    writeFileSync(path, file);
    expect(await tier.getBlock("k", bytes.length)).toBeUndefined();
    expect(tier.counters.corrupt).toBe(1);
    await tier.flush();
    expect(() => statSync(path)).toThrow();
    expect(await tier.getBlock("k", bytes.length)).toBeUndefined();
    await tier.close();
  });

  test("a truncated block file (a torn write after power loss) is a miss", async () => {
    const dir = freshDir();
    const tier = await open(dir);
    tier.putBlock("k", randomBytes(50_000, 6));
    await tier.flush();
    writeFileSync(blockPath(dir, "k"), readFileSync(blockPath(dir, "k")).subarray(0, 30_000));
    expect(await tier.getBlock("k", 50_000)).toBeUndefined();
    expect(tier.counters.corrupt).toBe(1);
    await tier.close();
  });

  test("a block file moved under another key's name is a miss (the header names its key)", async () => {
    const dir = freshDir();
    const tier = await open(dir);
    tier.putBlock("a", randomBytes(1000, 1));
    tier.putBlock("b", randomBytes(1000, 2));
    await tier.flush();
    writeFileSync(blockPath(dir, "b"), readFileSync(blockPath(dir, "a")));
    expect(await tier.getBlock("b", 1000)).toBeUndefined();
    expect(await tier.getBlock("a", 1000)).toEqual(randomBytes(1000, 1));
    await tier.close();
  });
});

describe("across restarts", () => {
  test("a reopened directory serves the blocks and metadata written before, and clears unfinished writes", async () => {
    const dir = freshDir();
    const first = await open(dir);
    first.putBlock("k0", randomBytes(70_000, 1));
    first.putBlock("k1", randomBytes(70_000, 2));
    first.putMeta("b\u0000k\u0000", { meta: { size: 140_000, etag: '"x"', headers: [], cacheable: true }, learnedAt: 1 });
    await first.close();
    writeFileSync(join(dir, "tmp", "12345.1"), "half a block");

    const second = await open(dir);
    expect(second.files).toBe(3);
    expect(await second.getBlock("k0", 70_000)).toEqual(randomBytes(70_000, 1));
    expect(await second.getBlock("k1", 70_000)).toEqual(randomBytes(70_000, 2));
    expect((await second.getMeta("b\u0000k\u0000"))?.meta.etag).toBe('"x"');
    expect(readdirSync(join(dir, "tmp"))).toEqual([]);
    await second.close();
  });

  test("a directory reopened with a smaller limit is trimmed to it, least recently used first", async () => {
    const dir = freshDir();
    const first = await open(dir);
    for (let i = 0; i < 6; i++) {
      first.putBlock(`k${i}`, randomBytes(100_000, i + 1));
      await first.flush();
      await Bun.sleep(5); // distinct modification times
    }
    expect(await first.getBlock("k0", 100_000)).toBeDefined(); // k0 is now the most recently used
    await first.close();
    const second = await open(dir, 3 * (100_000 + BLOCK_HEADER));
    await second.flush();
    expect(second.files).toBe(3);
    expect(bytesOnDisk(dir)).toBeLessThanOrEqual(3 * (100_000 + BLOCK_HEADER));
    expect(await second.getBlock("k0", 100_000)).toBeDefined();
    expect(await second.getBlock("k1", 100_000)).toBeUndefined();
    await second.close();
  });

  test("a directory reopened for another backend does not serve the first backend's entries", async () => {
    const dir = freshDir();
    const first = await open(dir);
    first.putBlock("k", randomBytes(1000, 1));
    await first.close();
    const second = await open(dir, 64 * 1024 ** 2, "http://other:9000/");
    expect(await second.getBlock("k", 1000)).toBeUndefined();
    await second.close();
  });
});

describe("hits read from the file", () => {
  test("a block this process wrote answers any slice of it at once, exactly its bytes", async () => {
    const dir = freshDir();
    const tier = await open(dir);
    const bytes = randomBytes(70_000, 3);
    tier.putBlock("k", bytes);
    expect(tier.blockSlice("k", bytes.length, 0, 10)).toBeUndefined(); // not written yet
    await tier.flush();
    expect(tier.blockSlice("k", bytes.length, 0, bytes.length)).toEqual(bytes);
    expect(tier.blockSlice("k", bytes.length, 1234, 5678)).toEqual(bytes.subarray(1234, 5678));
    expect(tier.blockSlice("k", bytes.length - 1, 0, 10)).toBeUndefined(); // another length: another block
    expect(tier.counters.hits).toBe(2);
    await tier.close();
  });

  test("after a restart a file is read in slices only once it was checked in full, and a damaged one never is", async () => {
    const dir = freshDir();
    const first = await open(dir);
    first.putBlock("good", randomBytes(50_000, 1));
    first.putBlock("bad", randomBytes(50_000, 2));
    await first.close();
    const path = blockPath(dir, "bad");
    const damaged = readFileSync(path);
    damaged[BLOCK_HEADER + 9]! ^= 0x40;
    writeFileSync(path, damaged);

    const second = await open(dir);
    expect(second.blockSlice("good", 50_000, 0, 100)).toBeUndefined();
    expect(second.blockSlice("bad", 50_000, 1000, 1100)).toBeUndefined(); // the flipped byte is outside this slice
    expect(await second.getBlock("good", 50_000)).toEqual(randomBytes(50_000, 1));
    expect(await second.getBlock("bad", 50_000)).toBeUndefined();
    expect(second.blockSlice("good", 50_000, 0, 100)).toEqual(randomBytes(50_000, 1).subarray(0, 100));
    expect(second.blockSlice("bad", 50_000, 1000, 1100)).toBeUndefined();
    await second.close();
  });

  test("a file deleted or cut short under the running tier is a miss, and forgotten", async () => {
    const dir = freshDir();
    const tier = await open(dir);
    tier.putBlock("gone", randomBytes(10_000, 1));
    tier.putBlock("short", randomBytes(10_000, 2));
    await tier.flush();
    rmSync(blockPath(dir, "gone"));
    writeFileSync(blockPath(dir, "short"), readFileSync(blockPath(dir, "short")).subarray(0, 5_000));
    expect(tier.blockSlice("gone", 10_000, 0, 10)).toBeUndefined();
    expect(tier.blockSlice("short", 10_000, 9_000, 10_000)).toBeUndefined();
    expect(tier.files).toBe(0);
    await tier.close();
  });

  test("a file evicted after it was opened for a hit is closed, so its space is freed", async () => {
    const dir = freshDir();
    const size = 100_000;
    const tier = await open(dir, 2 * (size + BLOCK_HEADER));
    tier.putBlock("old", randomBytes(size, 1));
    await tier.flush();
    expect(tier.blockSlice("old", size, 0, 10)).toEqual(randomBytes(size, 1).subarray(0, 10));
    const openBefore = readdirSync("/proc/self/fd").length;
    tier.putBlock("a", randomBytes(size, 3));
    tier.putBlock("b", randomBytes(size, 4));
    await tier.flush();
    expect(tier.blockSlice("old", size, 0, 10)).toBeUndefined();
    expect(statSync(blockPath(dir, "old"), { throwIfNoEntry: false })).toBeUndefined();
    expect(readdirSync("/proc/self/fd").length).toBe(openBefore - 1);
    await tier.close();
  });
});

describe("one process per directory", () => {
  test("a directory locked by a live process refuses a second tier; a lock left by a dead process is taken over", async () => {
    const dir = freshDir();
    const holder = Bun.spawn(
      [
        "bun",
        "-e",
        `const { DiskTier } = await import(${JSON.stringify(join(import.meta.dir, "../../src/cache/disk-tier.ts"))}); await DiskTier.open({ dir: ${JSON.stringify(dir)}, limitBytes: 1e6, namespace: "x", log: console }); console.log("locked"); await Bun.sleep(60000);`,
      ],
      { stdout: "pipe" },
    );
    const reader = holder.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("locked");
    const refused = await open(dir).catch((err) => err);
    expect(refused).toBeInstanceOf(CacheDirLocked);
    expect(String(refused.message)).toContain(String(holder.pid));
    holder.kill(9);
    await holder.exited;
    const taken = await open(dir);
    expect(readFileSync(join(dir, "lock"), "utf8")).toBe(String(process.pid));
    await taken.close();
  }, 30_000);

  test("two tiers of one process cannot share a directory", async () => {
    const dir = freshDir();
    const first = await open(dir);
    expect(await open(dir).catch((err) => err)).toBeInstanceOf(CacheDirLocked);
    await first.close();
    await (await open(dir)).close();
  });
});
