/**
 * The link to a Redis Cluster or Valkey cluster, through ioredis's `Cluster`: it keeps the
 * slot map, follows MOVED/ASK redirects (resharding) and opens a connection per master.
 *
 * - Failure is per master: each has its own breaker (redis-breaker.ts), found from the
 *   key's slot, so a dead master is a miss for the keys in its slots only while the others
 *   keep serving theirs. When a tripped master's retry period ends, the slot map is
 *   refreshed first: ioredis drops a dead node's connection and makes a new one only on a
 *   refresh, and a failover or reshard may have moved the slots meanwhile.
 * - Invalidation uses classic PUBLISH/SUBSCRIBE, which a Redis 7 or Valkey cluster
 *   broadcasts to every node over its bus: a subscriber on any live node hears a message
 *   published on any other, and ioredis moves the subscription to another node when its
 *   node dies. Sharded pub/sub (SPUBLISH) would put the one channel on one shard and lose
 *   invalidations while that shard is down; writes are rare, so the broadcast costs little.
 */
import { Cluster, type ClusterOptions } from "ioredis";
import calculateSlot from "cluster-key-slot";
import { RedisBreaker } from "./redis-breaker.ts";
import { CHANNEL_CONSEQUENCE, CONNECT_TIMEOUT_MS, type LinkOptions, type RedisCommands, type RedisLink } from "./redis-link.ts";
import { TierHealth } from "./tier.ts";

export interface ClusterSeed {
  host: string;
  port: number;
}

/** "host:port,host:port" (each optionally rediss://) as --redis-cluster takes it; undefined when malformed. */
export function parseClusterSeeds(text: string): { seeds: ClusterSeed[]; tls: boolean } | undefined {
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const schemes = new Set(items.map((s) => /^(rediss|valkeys):\/\//.test(s)));
  if (items.length === 0 || schemes.size > 1) return undefined;
  const seeds: ClusterSeed[] = [];
  for (const item of items) {
    const m = /^(?:(?:redis|rediss|valkey|valkeys):\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/[\]\s]+):(\d{1,5})\/?$/.exec(item);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) return undefined;
    seeds.push({ host: m[1]!.replace(/^\[|\]$/g, ""), port });
  }
  return { seeds, tls: [...schemes][0]! };
}

/** Bytes as ioredis takes them: a Buffer over the same memory (it would stringify a plain Uint8Array). */
const asBuffer = (v: string | Uint8Array) => (typeof v === "string" || Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

export class RedisClusterLink implements RedisLink {
  private readonly cluster: Cluster;
  private readonly commands: RedisCommands;
  private readonly breakers = new Map<string, RedisBreaker>();
  private readonly channelHealth: TierHealth;
  private refreshing: Promise<void> | undefined;

  constructor(
    seeds: ClusterSeed[],
    tls: boolean,
    private readonly opts: LinkOptions,
  ) {
    const options: ClusterOptions = {
      // A command while the slot map is unknown, or for a master that is disconnected, fails at once (a miss) instead of queueing.
      enableOfflineQueue: false,
      scaleReads: "master",
      clusterRetryStrategy: () => opts.retryAfterMs,
      slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
      redisOptions: {
        username: opts.username,
        password: opts.password,
        maxRetriesPerRequest: 0,
        connectTimeout: CONNECT_TIMEOUT_MS,
        ...(tls ? { tls: {} } : {}),
      },
      // Managed TLS clusters (ElastiCache, Memorystore) announce IPs their certificates do not name: connect to the name given.
      ...(tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    };
    this.cluster = new Cluster(seeds, options);
    // ioredis reports connection trouble as events too; the breakers already count and log it once.
    this.cluster.on("error", () => {});
    this.channelHealth = new TierHealth("redis-cluster (invalidation channel)", opts.log, opts.counters, CHANNEL_CONSEQUENCE);
    const c = this.cluster;
    this.commands = {
      getBuffer: (key) => c.getBuffer(key),
      get: (key) => c.get(key),
      setPx: (key, value, ttl) => c.set(key, asBuffer(value), "PX", ttl),
      del: (key) => c.del(key),
    };
  }

  /** The master serving `key` as the slot map says ("" while it is unknown: the cluster as a whole). */
  private nodeOf(key: string): string {
    return this.cluster.slots[calculateSlot(key)]?.[0] ?? "";
  }

  private breaker(node: string): RedisBreaker {
    let b = this.breakers.get(node);
    if (!b) {
      b = new RedisBreaker(`redis-cluster node ${node || "(slot map unknown)"}`, this.opts.log, this.opts.counters, this.opts.timeoutMs, this.opts.retryAfterMs, this.opts.now);
      this.breakers.set(node, b);
    }
    return b;
  }

  async call<T>(key: string, op: (c: RedisCommands) => Promise<T>): Promise<T | undefined> {
    let breaker = this.breaker(this.nodeOf(key));
    if (breaker.due) {
      await this.refresh();
      breaker = this.breaker(this.nodeOf(key));
    }
    return breaker.run(() => op(this.commands));
  }

  /** Refresh the slot map (one refresh at a time), bounded by the call timeout so a lookup never waits longer. */
  private refresh(): Promise<void> {
    this.refreshing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.opts.timeoutMs);
      this.cluster.refreshSlotsCache(() => {
        clearTimeout(timer);
        resolve();
      });
    }).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  async publish(channel: string, message: string): Promise<boolean> {
    // PUBLISH has no key: ioredis sends it to any master, so it is no one master's failure.
    return (await this.breaker("publish").run(() => this.cluster.publish(channel, message))) !== undefined;
  }

  subscribe(channel: string, onMessage: (message: string) => void): void {
    this.cluster.on("message", (ch: string, message: string) => {
      if (ch === channel) onMessage(message);
    });
    const attempt = () =>
      this.cluster.subscribe(channel).then(
        () => this.channelHealth.ok(),
        (err) => this.channelHealth.failed(err),
      );
    // ioredis resubscribes by itself when the subscriber's node changes; the first SUBSCRIBE needs a ready cluster.
    if (this.cluster.status === "ready") void attempt();
    else this.cluster.once("ready", () => void attempt());
  }

  /** Wait for the slot map, or give up after the connect timeout with one warning (calls are misses until it comes). */
  connect(): Promise<void> {
    if (this.cluster.status === "ready") return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.breaker("").fail(new Error(`no cluster slot map within ${CONNECT_TIMEOUT_MS} ms`));
        resolve();
      }, CONNECT_TIMEOUT_MS);
      this.cluster.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    await this.refreshing;
    this.cluster.disconnect();
  }
}
