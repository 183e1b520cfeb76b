/**
 * The shared tier: blocks and metadata in Redis or Valkey — one server or a cluster —
 * shared by every proxy pointed at it. The link (redis-node.ts, redis-cluster.ts) owns
 * connections and failure; this module is the tier's logic over either.
 *
 * - Keys: see redis-codec.ts (no hash tags: a cluster spreads an object's blocks over its
 *   masters).
 * - Bounds: blocks expire after the block TTL, metadata when the meta TTL since it was
 *   learned runs out; the size budget is the server's (`maxmemory` with
 *   `maxmemory-policy allkeys-lru`).
 * - Consistency: blocks are keyed by object version (ETag), so a stale block can never be
 *   served. A write through any proxy deletes the key's metadata here and then publishes the
 *   key (or, for DeleteObjects, the bucket) on a channel; every proxy drops it from memory on
 *   hearing it. Metadata can only be stale when an invalidation was missed (a proxy cut off
 *   from Redis at that moment), and then for at most the meta TTL.
 * - Failure: Redis is an optimisation. A call that fails or takes longer than the timeout
 *   is a miss (never an error for the client), counted, logged once per outage; the server
 *   (for a cluster, the one master) is then skipped for a short while.
 */
import { encodeInvalidation, encodeMeta, decodeMeta, invalidationChannel, parseInvalidation, redisKey } from "./redis-codec.ts";
import { RedisClusterLink, type ClusterSeed } from "./redis-cluster.ts";
import type { RedisCommands, RedisLink } from "./redis-link.ts";
import { RedisNodeLink } from "./redis-node.ts";
import type { CacheTier, Invalidation, StoredMeta, TierLog } from "./tier.ts";
import { TierCounters } from "./tier.ts";

/** Block bytes being written at most (about 30 ms of a 10 Gbit/s link). */
const MAX_PENDING_BYTES = 32 * 1024 ** 2;

export interface RedisTierOptions {
  /** One server: redis://, rediss://, valkey://. */
  url?: string;
  /** A cluster's seed nodes (used instead of `url`). */
  cluster?: { seeds: ClusterSeed[]; tls: boolean };
  /** AUTH, from the environment (a URL's own user info wins for `url`). */
  username?: string;
  password?: string;
  /** Keys are digested within this namespace (the backend), so fleets of different backends can share a server. */
  namespace: string;
  metaTtlMs: number;
  blockTtlMs: number;
  /** Longest a call may take before it is answered as a miss. */
  timeoutMs: number;
  /** How long a failing server is skipped before it is tried again. */
  retryAfterMs: number;
  log: TierLog;
  now?: () => number;
}

export class RedisTier implements CacheTier {
  readonly name: string;
  readonly counters: TierCounters;
  /** Tells our own invalidations apart from other proxies'. */
  private readonly origin = crypto.randomUUID();
  private readonly channel: string;
  private readonly listeners: Array<(change: Invalidation) => void> = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly now: () => number;
  private pendingBytes = 0;

  private constructor(
    private readonly link: RedisLink,
    counters: TierCounters,
    private readonly opts: RedisTierOptions,
  ) {
    this.name = opts.cluster ? "redis-cluster" : "redis";
    this.counters = counters;
    this.now = opts.now ?? Date.now;
    this.channel = invalidationChannel(opts.namespace);
    link.subscribe(this.channel, (message) => this.heard(message));
  }

  /** Connect (a server that is down only logs a warning: the tier keeps trying in the background). */
  static async open(opts: RedisTierOptions): Promise<RedisTier> {
    const counters = new TierCounters();
    const linkOpts = { username: opts.username, password: opts.password, timeoutMs: opts.timeoutMs, retryAfterMs: opts.retryAfterMs, counters, log: opts.log, now: opts.now ?? Date.now };
    if (!opts.cluster && !opts.url) throw new Error("RedisTier needs a url or cluster seeds");
    const link = opts.cluster ? new RedisClusterLink(opts.cluster.seeds, opts.cluster.tls, linkOpts) : new RedisNodeLink(opts.url!, linkOpts);
    const tier = new RedisTier(link, counters, opts);
    await link.connect();
    return tier;
  }

  private key(kind: "b" | "m", key: string): string {
    return redisKey(this.opts.namespace, kind, key);
  }

  async getBlock(key: string, length: number): Promise<Uint8Array | undefined> {
    const k = this.key("b", key);
    const bytes = await this.link.call(k, (c) => c.getBuffer(k));
    if (bytes && bytes.byteLength === length) {
      this.counters.hits++;
      return bytes;
    }
    if (bytes) this.counters.corrupt++;
    this.counters.misses++;
    return undefined;
  }

  putBlock(key: string, bytes: Uint8Array): void {
    // Drop the write rather than queue more behind it: a burst of fills must not make every
    // call on the connection (lookups included) wait past the timeout.
    if (this.pendingBytes + bytes.byteLength > MAX_PENDING_BYTES) return;
    this.pendingBytes += bytes.byteLength;
    const k = this.key("b", key);
    void this.send(k, (c) => c.setPx(k, bytes, this.opts.blockTtlMs)).finally(() => (this.pendingBytes -= bytes.byteLength));
  }

  async getMeta(id: string): Promise<StoredMeta | undefined> {
    const k = this.key("m", id);
    const text = await this.link.call(k, (c) => c.get(k));
    if (text) {
      const stored = decodeMeta(id, text);
      if (stored !== "corrupt") {
        this.counters.hits++;
        return stored;
      }
      this.counters.corrupt++;
    }
    this.counters.misses++;
    return undefined;
  }

  putMeta(id: string, stored: StoredMeta): void {
    const ttl = Math.floor(stored.learnedAt + this.opts.metaTtlMs - this.now());
    const k = this.key("m", id);
    if (ttl > 0) void this.send(k, (c) => c.setPx(k, encodeMeta(id, stored), ttl));
  }

  deleteMeta(id: string): Promise<void> {
    // Published only once the delete is done (on a cluster the two go to different nodes):
    // whoever hears the message finds the key gone.
    const k = this.key("m", id);
    return this.track(this.send(k, (c) => c.del(k)).then(() => this.publish({ id })));
  }

  invalidateBucket(bucket: string): Promise<void> {
    return this.track(this.publish({ bucket }));
  }

  onInvalidate(listener: (change: Invalidation) => void): void {
    this.listeners.push(listener);
  }

  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.link.close();
  }

  private async publish(change: Invalidation): Promise<void> {
    if (await this.link.publish(this.channel, encodeInvalidation(this.origin, change))) this.counters.writes++;
  }

  /** A write in the background; its failure is counted like any other. */
  private send(key: string, op: (c: RedisCommands) => Promise<unknown>): Promise<void> {
    return this.track(
      this.link.call(key, op).then((r) => {
        if (r !== undefined) this.counters.writes++;
      }),
    );
  }

  private track(done: Promise<void>): Promise<void> {
    this.inFlight.add(done);
    done.finally(() => this.inFlight.delete(done));
    return done;
  }

  private heard(message: string): void {
    const change = parseInvalidation(this.origin, message);
    if (!change) return;
    this.counters.heard++;
    for (const listener of this.listeners) listener(change);
  }
}
