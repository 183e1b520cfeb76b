/**
 * The disk tier: blocks and metadata as files under one directory, bounded in total size
 * with LRU eviction, kept across restarts.
 *
 * Layout: `DIR/blocks/xx/<sha256>` and `DIR/meta/xx/<sha256>` (256 fan-out directories),
 * `DIR/tmp/` for writes in progress, `DIR/lock` holding the owner's PID.
 *
 * - Index: which files exist and their sizes live in memory, in recency order, rebuilt at
 *   start-up from the directory (oldest modification time first; hits touch the file's
 *   mtime so recency survives a restart). A lookup that the index does not know costs no
 *   system call.
 * - Atomic writes: a file is written under `tmp/` and renamed into place, so a reader or a
 *   restart sees either no file or a whole one. No fsync: after a process crash (kill -9)
 *   the kernel still writes out what was renamed; after a power loss a renamed file may be
 *   short or zero-filled, which the block header's length and CRC-32 detect, so such a file
 *   is dropped and refetched instead of served. Durability is traded for write speed;
 *   correctness never is.
 * - Block files carry a header: magic, format, SHA-256 of the cache key, length, CRC-32 of
 *   the bytes. A file is checked in full the first time it is read after a restart (a bad
 *   one is deleted and answered as a miss); from then on, and for every file this process
 *   wrote itself, a hit reads just the bytes it needs from the file (`blockSlice`), never
 *   the whole block, and is not copied into memory. The check is not repeated per hit: it
 *   guards against torn writes and damage while the proxy was down, not against the disk
 *   changing a file under a running process.
 * - Those reads are synchronous `pread`s on file descriptors kept open (a bounded set), as
 *   nginx reads its cache files without aio: from the page cache a read costs microseconds,
 *   where a thread-pool round trip costs more than the copy (BENCHMARKS.md). An open
 *   descriptor also keeps a file's bytes readable after an eviction unlinks it.
 * - One process per DIR: the directory is locked with a PID file (a second proxy refuses to
 *   start; a lock left by a dead process is taken over). Two writers could otherwise evict
 *   each other's files behind each other's index.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { link, mkdir, readdir, readFile, rename, rm, stat, unlink, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { CacheTier, StoredMeta, TierLog } from "./tier.ts";
import { keyDigest, TierCounters, TierHealth } from "./tier.ts";

const MAGIC = 0x53335042; // "S3PB"
const FORMAT = 1;
/** magic u32, format u32, key digest 32 bytes, length u32, crc32 u32. */
export const BLOCK_HEADER = 48;

/** Bytes of writes queued at most (a block is at most 64 MiB): the disk tier is best effort. */
const MAX_PENDING_BYTES = 256 * 1024 ** 2;

/** Block files kept open for hits at most. */
const OPEN_FILES = 256;

/** A hit touches its file's mtime (recency across restarts) at most this often. */
const TOUCH_EVERY_MS = 60_000;

/** What the index knows of a file. */
interface FileEntry {
  size: number;
  /** Written by this process, or checked in full since it started: hits may be served from the file. */
  verified: boolean;
  /** When a hit last set its mtime (epoch ms), 0 never: its first hit always does. */
  touchedAt: number;
}

export interface DiskTierOptions {
  dir: string;
  /** Bound on the bytes of all files (headers included). */
  limitBytes: number;
  /** Keys are digested within this namespace (the backend), so a DIR never mixes backends. */
  namespace: string;
  log: TierLog;
}

export class CacheDirLocked extends Error {
  constructor(dir: string, pid: number) {
    super(`--cache-dir ${dir} is locked by running process ${pid} (one proxy per cache directory)`);
    this.name = "CacheDirLocked";
  }
}

/** Directories locked by this process, since a PID file cannot tell two tiers of one process apart. */
const lockedHere = new Set<string>();

export class DiskTier implements CacheTier {
  readonly name = "disk";
  readonly counters = new TierCounters();
  private readonly health: TierHealth;
  /** File name ("blocks/ab/ab…") → what is known of it; Map order is recency order. */
  private readonly index = new Map<string, FileEntry>();
  /** Descriptors of block files open for hits, by file name; Map order is recency order. */
  private readonly open = new Map<string, number>();
  private held = 0;
  /** Bytes of writes in flight, counted against the limit before they land. */
  private pending = 0;
  private readonly writing = new Set<Promise<void>>();
  /** Per-file chains, so a metadata write and a delete of the same file land in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private seq = 0;

  private constructor(private readonly opts: DiskTierOptions) {
    this.health = new TierHealth("disk", opts.log, this.counters);
  }

  /** Lock DIR, create its layout and rebuild the index from the files there. */
  static async open(opts: DiskTierOptions): Promise<DiskTier> {
    await mkdir(opts.dir, { recursive: true });
    await lock(opts.dir);
    const tier = new DiskTier(opts);
    try {
      await tier.load();
    } catch (err) {
      await unlock(opts.dir);
      throw err;
    }
    return tier;
  }

  get bytesHeld(): number {
    return this.held;
  }

  get files(): number {
    return this.index.size;
  }

  /** Path of the file holding `key` of a kind, relative to DIR. */
  private nameOf(kind: "blocks" | "meta", key: string): { name: string; digest: Buffer } {
    const digest = keyDigest(this.opts.namespace, key);
    const hex = digest.toString("hex");
    return { name: `${kind}/${hex.slice(0, 2)}/${hex}`, digest };
  }

  async getBlock(key: string, length: number): Promise<Uint8Array | undefined> {
    const { name, digest } = this.nameOf("blocks", key);
    const file = await this.read(name);
    if (!file) return undefined;
    const bytes = blockBytes(file, digest, length);
    if (!bytes) {
      this.counters.corrupt++;
      this.remove(name);
      this.counters.misses++;
      return undefined;
    }
    const entry = this.index.get(name);
    if (entry) entry.verified = true;
    this.counters.hits++;
    return bytes;
  }

  /**
   * Bytes `from` to `to` (exclusive) of a block, read at once from its file when the index
   * holds it checked and of the right length; undefined otherwise (the caller then reads it
   * with getBlock, which checks it) and on any failure, which also drops the file.
   */
  blockSlice(key: string, length: number, from: number, to: number): Uint8Array | undefined {
    const { name } = this.nameOf("blocks", key);
    const entry = this.index.get(name);
    if (!entry?.verified || entry.size !== BLOCK_HEADER + length) return undefined;
    const out = new Uint8Array(to - from);
    try {
      const fd = this.descriptor(name);
      if (readSync(fd, out, 0, out.byteLength, BLOCK_HEADER + from) !== out.byteLength) throw new Error(`${name} is shorter than its index entry`);
    } catch (err) {
      // Gone or cut short under us (by hand): a miss, and forgotten; anything else is also a failure.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.health.failed(err);
      this.remove(name);
      this.counters.misses++;
      return undefined;
    }
    this.used(name, entry);
    this.counters.hits++;
    return out;
  }

  /** An open descriptor of a block file, opening it (and closing the least recently used beyond the bound) as needed. */
  private descriptor(name: string): number {
    let fd = this.open.get(name);
    if (fd !== undefined) {
      this.open.delete(name);
    } else {
      fd = openSync(join(this.opts.dir, name), "r");
      for (const [old, oldFd] of this.open) {
        if (this.open.size < OPEN_FILES) break;
        this.open.delete(old);
        closeSync(oldFd);
      }
    }
    this.open.set(name, fd);
    return fd;
  }

  /** Close a file's descriptor, if one is open: its file left the index. */
  private closeFile(name: string): void {
    const fd = this.open.get(name);
    if (fd === undefined) return;
    this.open.delete(name);
    closeSync(fd);
  }

  putBlock(key: string, bytes: Uint8Array): void {
    const { name, digest } = this.nameOf("blocks", key);
    // Blocks are keyed by object version: a block already stored never changes.
    if (this.index.has(name) || this.chains.has(name)) return;
    this.write(name, encodeBlock(digest, bytes), true);
  }

  async getMeta(id: string): Promise<StoredMeta | undefined> {
    const { name } = this.nameOf("meta", id);
    const file = await this.read(name);
    if (!file) return undefined;
    try {
      const parsed = JSON.parse(new TextDecoder().decode(file)) as { id: string; stored: StoredMeta };
      if (parsed.id === id) {
        this.counters.hits++;
        return parsed.stored;
      }
    } catch {}
    this.counters.corrupt++;
    this.remove(name);
    this.counters.misses++;
    return undefined;
  }

  putMeta(id: string, stored: StoredMeta): void {
    const { name } = this.nameOf("meta", id);
    this.write(name, new TextEncoder().encode(JSON.stringify({ id, stored })));
  }

  deleteMeta(id: string): Promise<void> {
    // Gone from the index at once, so no later lookup finds it; the file follows in the background.
    this.remove(this.nameOf("meta", id).name);
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    while (this.writing.size > 0) await Promise.all(this.writing);
  }

  async close(): Promise<void> {
    for (const name of [...this.open.keys()]) this.closeFile(name);
    await this.flush();
    await unlock(this.opts.dir);
  }

  /** The file's bytes when the index knows it (marking it recently used), else a miss. */
  private async read(name: string): Promise<Uint8Array | undefined> {
    const entry = this.index.get(name);
    if (entry === undefined) {
      this.counters.misses++;
      return undefined;
    }
    this.used(name, entry);
    try {
      const bytes = await Bun.file(join(this.opts.dir, name)).bytes();
      this.health.ok();
      return bytes;
    } catch (err) {
      // Gone (evicted meanwhile, or deleted by hand): forget it quietly; anything else is a failure.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.health.failed(err);
      this.forget(name);
      this.counters.misses++;
      return undefined;
    }
  }

  /** Mark a file most recently used, here and (now and then) in its mtime, which a restart reads. */
  private used(name: string, entry: FileEntry): void {
    this.index.delete(name);
    this.index.set(name, entry);
    const now = Date.now();
    if (now - entry.touchedAt < TOUCH_EVERY_MS) return;
    entry.touchedAt = now;
    const when = new Date(now);
    utimes(join(this.opts.dir, name), when, when).catch(() => {});
  }

  /** Write a file atomically in the background, within the size bound; `verified`: its bytes are ours, hits may be served from it. */
  private write(name: string, bytes: Uint8Array, verified = false): void {
    const size = bytes.byteLength;
    // Drop the write rather than overshoot the bound, or queue up memory behind a slow disk.
    if (this.pending + size > Math.min(this.opts.limitBytes, MAX_PENDING_BYTES)) return;
    this.pending += size;
    this.evictUntil(this.opts.limitBytes - this.pending);
    const tmp = join(this.opts.dir, "tmp", `${process.pid}.${++this.seq}`);
    this.chain(name, async () => {
      try {
        await Bun.write(tmp, bytes);
        await moveInto(tmp, join(this.opts.dir, name));
        this.forget(name);
        this.index.set(name, { size, verified, touchedAt: 0 });
        this.held += size;
        this.counters.writes++;
        this.health.ok();
      } catch (err) {
        this.health.failed(err);
        await unlink(tmp).catch(() => {});
      } finally {
        this.pending -= size;
      }
    });
  }

  /** Delete a file (in order after any write of it still in flight). */
  private remove(name: string): void {
    this.forget(name);
    this.chain(name, () => unlink(join(this.opts.dir, name)).catch(() => {}));
  }

  private chain(name: string, op: () => Promise<void>): void {
    const done = (this.chains.get(name) ?? Promise.resolve()).then(op);
    this.chains.set(name, done);
    this.writing.add(done);
    done.finally(() => {
      this.writing.delete(done);
      if (this.chains.get(name) === done) this.chains.delete(name);
    });
  }

  private forget(name: string): void {
    const entry = this.index.get(name);
    if (entry === undefined) return;
    this.index.delete(name);
    this.held -= entry.size;
    this.closeFile(name);
  }

  private evictUntil(target: number): void {
    for (const name of this.index.keys()) {
      if (this.held <= target) return;
      this.remove(name);
      this.counters.evictions++;
    }
  }

  /** Rebuild the index from the files on disk, least recently used first; clear writes a crash left behind. */
  private async load(): Promise<void> {
    const dir = this.opts.dir;
    await rm(join(dir, "tmp"), { recursive: true, force: true });
    await mkdir(join(dir, "tmp"));
    const found: Array<{ name: string; size: number; mtime: number }> = [];
    for (const kind of ["blocks", "meta"] as const) {
      await mkdir(join(dir, kind), { recursive: true });
      // One fan-out directory at a time, its files stat'ed concurrently: start-up time matters with 100k files.
      for (const fan of await readdir(join(dir, kind))) {
        const sub = `${kind}/${fan}`;
        const entries = await readdir(join(dir, sub)).catch(() => [] as string[]);
        await Promise.all(
          entries.map(async (entry) => {
            const st = await stat(join(dir, sub, entry)).catch(() => undefined);
            if (st?.isFile()) found.push({ name: `${sub}/${entry}`, size: st.size, mtime: st.mtimeMs });
          }),
        );
      }
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) {
      this.index.set(f.name, { size: f.size, verified: false, touchedAt: 0 });
      this.held += f.size;
    }
    this.evictUntil(this.opts.limitBytes);
  }
}

/** Rename a finished file into place, creating its fan-out directory on first use. */
async function moveInto(tmp: string, path: string): Promise<void> {
  try {
    await rename(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    await mkdir(dirname(path), { recursive: true });
    await rename(tmp, path);
  }
}

/** A block file: header, then the bytes. */
export function encodeBlock(digest: Uint8Array, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(BLOCK_HEADER + bytes.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, FORMAT);
  out.set(digest, 8);
  view.setUint32(40, bytes.byteLength);
  view.setUint32(44, Bun.hash.crc32(bytes));
  out.set(bytes, BLOCK_HEADER);
  return out;
}

/** The bytes of a block file when its header matches the key, the expected length and the checksum. */
export function blockBytes(file: Uint8Array, digest: Uint8Array, length: number): Uint8Array | undefined {
  if (file.byteLength !== BLOCK_HEADER + length) return undefined;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (view.getUint32(0) !== MAGIC || view.getUint32(4) !== FORMAT || view.getUint32(40) !== length) return undefined;
  if (!Buffer.from(file.buffer, file.byteOffset + 8, 32).equals(digest)) return undefined;
  const bytes = file.subarray(BLOCK_HEADER);
  return view.getUint32(44) === Bun.hash.crc32(bytes) >>> 0 ? bytes : undefined;
}

/**
 * Take DIR's lock: a file holding our PID, created atomically (written aside, then hard
 * linked, which fails if the lock exists). A lock whose process is gone is taken over.
 */
async function lock(dir: string): Promise<void> {
  if (lockedHere.has(dir)) throw new CacheDirLocked(dir, process.pid);
  const path = join(dir, "lock");
  const mine = join(dir, `lock.${process.pid}`);
  await Bun.write(mine, String(process.pid));
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(mine, path);
        lockedHere.add(dir);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const pid = Number(await readFile(path, "utf8").catch(() => "0"));
      // Our own PID in the lock means a previous life of this process (a container's PID 1).
      if (pid > 0 && pid !== process.pid && alive(pid)) throw new CacheDirLocked(dir, pid);
      await unlink(path).catch(() => {});
    }
    throw new Error(`--cache-dir ${dir}: could not take the lock`);
  } finally {
    await unlink(mine).catch(() => {});
  }
}

async function unlock(dir: string): Promise<void> {
  if (!lockedHere.delete(dir)) return;
  const path = join(dir, "lock");
  const pid = Number(await readFile(path, "utf8").catch(() => "0"));
  if (pid === process.pid) await unlink(path).catch(() => {});
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
