/**
 * The shared tier: blocks and metadata in Redis or Valkey, shared by every proxy pointed at
 * it, through Bun's built-in client.
 *
 * - Keys: `s3proxy:b:<sha256>` (a block) and `s3proxy:m:<sha256>` (an object's metadata),
 *   the digest taken over the backend and the cache key. No hash tags: nothing here needs
 *   two keys in one slot, so a cluster spreads them evenly.
 * - Bounds: blocks expire after the block TTL, metadata when the meta TTL since it was
 *   learned runs out; the size budget is the server's (`maxmemory` with
 *   `maxmemory-policy allkeys-lru`).
 * - Consistency: blocks are keyed by object version (ETag), so a stale block can never be
 *   served. A write through any proxy deletes the key's metadata here and publishes the key
 *   (or, for DeleteObjects, the bucket) on a channel; every proxy drops it from memory on
 *   hearing it. Metadata can only be stale
 *   when an invalidation was missed (a proxy cut off from Redis at that moment), and then
 *   for at most the meta TTL.
 * - Failure: Redis is an optimisation. A call that fails or takes longer than the timeout
 *   is a miss (never an error for the client), counted, logged once per outage; Redis is
 *   then skipped for a short while and reconnected in the background, so a dead or hung
 *   server costs requests at most one timeout per retry period.
 */
import { RedisClient, type RedisOptions } from "bun";
import type { CacheTier, Invalidation, StoredMeta, TierLog } from "./tier.ts";
import { keyDigest, TierCounters, TierHealth } from "./tier.ts";

const CONNECT_TIMEOUT_MS = 2000;
/** Block bytes being written at most (about 30 ms of a 10 Gbit/s link). */
const MAX_PENDING_BYTES = 32 * 1024 ** 2;

export interface RedisTierOptions {
  url: string;
  /** Keys are digested within this namespace (the backend), so fleets of different backends can share a server. */
  namespace: string;
  metaTtlMs: number;
  blockTtlMs: number;
  /** Longest a call may take before it is answered as a miss. */
  timeoutMs: number;
  /** How long Redis is skipped after a failure before it is tried again. */
  retryAfterMs: number;
  log: TierLog;
  now?: () => number;
}

export class RedisTier implements CacheTier {
  readonly name = "redis";
  readonly counters = new TierCounters();
  private readonly health: TierHealth;
  private readonly client: RedisClient;
  /** A connection in subscriber mode can send nothing else: invalidations have their own. */
  private readonly subscriber: RedisClient;
  private readonly channel: string;
  /** Tells our own invalidations apart from other proxies'. */
  private readonly origin = crypto.randomUUID();
  private readonly listeners: Array<(change: Invalidation) => void> = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly now: () => number;
  private readonly channelHealth: TierHealth;
  private skipUntil = 0;
  private retryConnectAt = 0;
  private pendingBytes = 0;
  private connecting: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly opts: RedisTierOptions) {
    this.now = opts.now ?? Date.now;
    this.health = new TierHealth("redis", opts.log, this.counters);
    this.channelHealth = new TierHealth("redis (invalidation channel)", opts.log, this.counters, "writes through other proxies reach this one only through the meta TTL until it recovers");
    // We reconnect ourselves (throttled), and a command sent while disconnected must fail at once, not queue.
    // Connecting happens beside the requests (they miss meanwhile), so it may take longer than a call.
    const options: RedisOptions = { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: CONNECT_TIMEOUT_MS };
    this.client = new RedisClient(opts.url, options);
    this.subscriber = new RedisClient(opts.url, options);
    this.channel = `s3proxy:invalidate:${keyDigest(opts.namespace, "").toString("base64url")}`;
  }

  /** Connect (a server that is down only logs a warning: the tier keeps trying in the background). */
  static async open(opts: RedisTierOptions): Promise<RedisTier> {
    const tier = new RedisTier(opts);
    await tier.reconnect();
    return tier;
  }

  private key(kind: "b" | "m", key: string): string {
    return `s3proxy:${kind}:${keyDigest(this.opts.namespace, key).toString("base64url")}`;
  }

  async getBlock(key: string, length: number): Promise<Uint8Array | undefined> {
    const bytes = await this.call((c) => c.getBuffer(this.key("b", key)));
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
    void this.send((c) => c.set(this.key("b", key), bytes, "PX", this.opts.blockTtlMs)).finally(() => (this.pendingBytes -= bytes.byteLength));
  }

  async getMeta(id: string): Promise<StoredMeta | undefined> {
    const text = await this.call((c) => c.get(this.key("m", id)));
    if (text) {
      try {
        const parsed = JSON.parse(text) as { id: string; stored: StoredMeta };
        if (parsed.id === id) {
          this.counters.hits++;
          return parsed.stored;
        }
      } catch {}
      this.counters.corrupt++;
    }
    this.counters.misses++;
    return undefined;
  }

  putMeta(id: string, stored: StoredMeta): void {
    const ttl = Math.floor(stored.learnedAt + this.opts.metaTtlMs - this.now());
    if (ttl > 0) this.send((c) => c.set(this.key("m", id), JSON.stringify({ id, stored }), "PX", ttl));
  }

  deleteMeta(id: string): void {
    // Sent in this order on one connection: whoever hears the message finds the key gone.
    this.send((c) => c.del(this.key("m", id)));
    this.send((c) => c.publish(this.channel, JSON.stringify({ origin: this.origin, id })));
  }

  invalidateBucket(bucket: string): void {
    this.send((c) => c.publish(this.channel, JSON.stringify({ origin: this.origin, bucket })));
  }

  onInvalidate(listener: (change: Invalidation) => void): void {
    this.listeners.push(listener);
  }

  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.connecting;
    this.client.close();
    this.subscriber.close();
  }

  /** A write in the background; its failure is counted like any other. */
  private send(op: (c: RedisClient) => Promise<unknown>): Promise<void> {
    const done = this.call(op).then((r) => {
      if (r !== undefined) this.counters.writes++;
    });
    this.inFlight.add(done);
    done.finally(() => this.inFlight.delete(done));
    return done;
  }

  /** Run one command within the timeout; undefined when Redis is down, slow or failing. */
  private async call<T>(op: (c: RedisClient) => Promise<T>): Promise<T | undefined> {
    if (!this.client.connected || !this.subscriber.connected) void this.reconnect();
    if (!this.client.connected || this.now() < this.skipUntil) {
      this.counters.failures++; // answered as a miss because Redis is down: counted, not logged again
      return undefined;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
    });
    try {
      const result = await Promise.race([op(this.client), timeout]);
      this.health.ok();
      return result ?? undefined;
    } catch (err) {
      this.fail(err);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(err: unknown): void {
    this.health.failed(err);
    this.skipUntil = this.now() + this.opts.retryAfterMs;
  }

  /**
   * (Re)connect what is down, at most once per retry period. The invalidation channel fails
   * on its own (a server that refuses SUBSCRIBE still serves as a cache; metadata is then
   * only as fresh as the meta TTL), with its own warning.
   */
  private reconnect(): Promise<void> {
    if (this.closed || this.connecting || this.now() < this.retryConnectAt) return this.connecting ?? Promise.resolve();
    this.retryConnectAt = this.now() + this.opts.retryAfterMs;
    this.connecting = (async () => {
      if (!this.client.connected) await this.client.connect().then(() => this.health.ok(), (err) => this.fail(err));
      if (this.client.connected && !this.subscriber.connected) {
        try {
          await this.subscriber.connect();
          await this.subscriber.subscribe(this.channel, (message) => this.heard(message));
          this.channelHealth.ok();
        } catch (err) {
          this.channelHealth.failed(err);
        }
      }
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private heard(message: string): void {
    let parsed: { origin?: unknown; id?: unknown; bucket?: unknown };
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (parsed.origin === this.origin) return;
    const change = typeof parsed.id === "string" ? { id: parsed.id } : typeof parsed.bucket === "string" ? { bucket: parsed.bucket } : undefined;
    if (change) for (const listener of this.listeners) listener(change);
  }
}
