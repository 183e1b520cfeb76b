/** Assemble a running proxy from a resolved configuration: credentials, upstream client, handler, server. */
import type { AuthMode } from "./auth/authenticate.ts";
import { onBehalfOfRequest } from "./auth/acting-as.ts";
import { ReadGrants } from "./auth/read-grants.ts";
import { setupClientAuth } from "./auth/setup.ts";
import { ByteBudget } from "./byte-budget.ts";
import { BlockCache } from "./cache/block-cache.ts";
import { CollectionPacer } from "./cache/collection-pacer.ts";
import { DiskTier } from "./cache/disk-tier.ts";
import type { LruUsage } from "./cache/lru.ts";
import { MetaCache } from "./cache/meta-cache.ts";
import { ReadThroughCache, type Upstream } from "./cache/read-through.ts";
import { RedisTier } from "./cache/redis-tier.ts";
import { CacheStats } from "./cache/stats.ts";
import type { CacheTier } from "./cache/tier.ts";
import type { CacheConfig, Config, Env } from "./config.ts";
import type { Logger } from "./log.ts";
import { createAccessLog } from "./ops/access-log.ts";
import { ProxyMetrics } from "./ops/metrics.ts";
import { checkReadiness } from "./ops/readiness.ts";
import { createOpsRoutes, opsOnly, withOpsRoutes } from "./ops/routes.ts";
import { createHandler, type Handler } from "./proxy/handler.ts";
import { listen, type Listener } from "./server/server.ts";
import { describeTlsPair, loadTlsPair, reloadTlsOnHangup } from "./server/tls-files.ts";
import { UpstreamClient } from "./upstream/client.ts";
import { DEFAULT_RETRY } from "./upstream/retry.ts";
import { resolveCredentialChain, type CredentialSource } from "./upstream/credentials.ts";

export interface Proxy {
  server: Listener;
  url: URL;
  handler: Handler;
  credentialSource: CredentialSource;
  authMode: AuthMode;
  cache?: { store: LruUsage; stats: CacheStats; reads: ReadThroughCache; tiers: CacheTier[]; fills: ByteBudget };
  metrics: ProxyMetrics;
  /** The --metrics-port server, when there is one (plain HTTP, for a scraper on a private network). */
  opsServer?: Listener;
  stop(): Promise<void>;
  /** Stop accepting connections and wait up to `timeoutMs` for in-flight requests; false if some were cut off. */
  drain(timeoutMs: number): Promise<boolean>;
}

/** Metadata entries kept at most (a few hundred bytes each). */
const MAX_META_ENTRIES = 100_000;

/** Redis tier: blocks expire after a day unless evicted first; a call slower than the timeout is a miss. */
const REDIS_BLOCK_TTL_MS = 24 * 3600_000;
const REDIS_TIMEOUT_MS = 250;
const REDIS_RETRY_AFTER_MS = 1000;

/** The tiers below memory, in lookup order: disk, then Redis. Keys are namespaced by backend. */
async function createTiers(config: CacheConfig, backend: URL, log: Logger): Promise<CacheTier[]> {
  const tiers: CacheTier[] = [];
  if (config.dir) {
    const disk = await DiskTier.open({ dir: config.dir, limitBytes: config.diskSizeBytes, namespace: backend.href, log });
    log.info(`disk cache tier: ${config.dir} (${disk.files} files, ${disk.bytesHeld} bytes)`);
    tiers.push(disk);
  }
  if (config.redisUrl || config.redisCluster) {
    const where = config.redisCluster ? { cluster: config.redisCluster } : { url: config.redisUrl };
    const tier = await RedisTier.open({ ...where, ...config.redisAuth, namespace: backend.href, metaTtlMs: config.metaTtlMs, blockTtlMs: REDIS_BLOCK_TTL_MS, timeoutMs: REDIS_TIMEOUT_MS, retryAfterMs: REDIS_RETRY_AFTER_MS, log });
    // Host names and ports only: credentials never reach the log.
    if (config.redisCluster) log.info(`redis cluster tier: seeds ${config.redisCluster.seeds.map((s) => `${s.host}:${s.port}`).join(", ")}${config.redisCluster.tls ? " (TLS)" : ""}`);
    tiers.push(tier);
  }
  return tiers;
}

function createCache(config: CacheConfig, upstream: Upstream, tiers: CacheTier[]) {
  const stats = new CacheStats();
  const meta = new MetaCache({ ttlMs: config.metaTtlMs, negativeTtlMs: config.negativeTtlMs, maxEntries: MAX_META_ENTRIES });
  // Fills in flight may hold an eighth of the cache size (at least a few blocks): bursts of
  // cold reads queue. Each in-flight byte also exists once more in the answer copied from it,
  // so this bounds what misses hold beyond the cache to about a quarter of it (a quarter for
  // fills measured 750 MiB peak against 580 under the memory bench's 224 cold readers).
  const fills = new ByteBudget(Math.max(4 * config.blockSize, Math.floor(config.sizeBytes / 8)));
  const blocks = new BlockCache(config.sizeBytes, config.blockSize, stats, tiers, fills);
  const reads = new ReadThroughCache(meta, blocks, upstream, stats, {
    tiers,
    metaTtlMs: config.metaTtlMs,
    maxObjectSize: config.maxObjectSize,
    maxRangeSize: Math.max(config.blockSize, Math.floor(config.sizeBytes / 4)),
    prefetch: config.prefetch,
    serveStaleOnError: config.serveStaleOnError,
    hedgeAfter: config.hedgeAfter,
  });
  return { store: blocks.store, stats, reads, tiers, fills };
}

/** Bodies up to this size are buffered so they carry an exact Content-Length (see respond.ts). */
const MAX_BUFFERED_BODY = 64 * 1024 ** 2;
const BUFFER_BUDGET = 128 * 1024 ** 2;
/** How often the bytes dropped are checked against the collection pacer (collection-pacer.ts). */
const COLLECT_CHECK_MS = 50;
/** A full collection is due each time this share of the cache size (at least the floor) was dropped. */
const COLLECT_EVERY_SHARE = 1 / 4;
const COLLECT_EVERY_MIN = 16 * 1024 ** 2;
/** A readiness probe waits this long for the backend's answer. */
const READINESS_TIMEOUT_MS = 2000;

export async function startProxy(config: Config, env: Env, log: Logger): Promise<Proxy> {
  // Certificate problems exit 2 before anything else starts.
  const tls = config.tls ? await loadTlsPair(config.tls) : undefined;
  const { provider, source } = await resolveCredentialChain(env);
  const auth = await setupClientAuth(config.auth, { provider, source }, { host: config.host, tls: tls !== undefined }, log);
  if (source === "none" && auth.mode !== "web-identity") log.warn("no backend credentials found: requests are forwarded unsigned (public buckets only)");
  const upstream = new UpstreamClient({
    endpoint: config.endpoint,
    region: config.region,
    credentials: provider,
    timeouts: { firstByteMs: config.limits.firstByteTimeoutMs, idleMs: config.limits.idleTimeoutMs },
    retry: { ...DEFAULT_RETRY, attempts: config.limits.retries },
    maxConcurrent: config.limits.maxUpstream,
  });
  // Web identity: cache fills are signed as the identity whose request started them.
  const perIdentity = auth.mode === "web-identity";
  const cache = config.cache.enabled ? createCache(config.cache, perIdentity ? onBehalfOfRequest(upstream) : upstream, await createTiers(config.cache, config.endpoint, log)) : undefined;
  const relayBudget = new ByteBudget(BUFFER_BUDGET);
  const collector = collectWhenDropped(() => (cache?.store.bytesRemoved ?? 0) + relayBudget.bytesAdmitted, Math.max(COLLECT_EVERY_MIN, config.cache.sizeBytes * COLLECT_EVERY_SHARE));
  const metrics = new ProxyMetrics({ cache, inFlight: () => server.pendingRequests, collections: () => collector.done });
  const accessLog = createAccessLog(log, config.logFormat, config.accessLogHitsPerLine);
  const handler = createHandler({
    cache: cache?.reads,
    grants: cache && perIdentity ? new ReadGrants(config.cache.metaTtlMs) : undefined,
    upstream,
    authenticate: auth.authenticate,
    parse: { domains: config.domains },
    maxInflight: config.limits.maxInflight,
    relay: { maxBufferedBody: MAX_BUFFERED_BODY, budget: relayBudget },
    log,
    onFinished: (f) => {
      accessLog(f.method, f.path, f.res, f.record, f.ms);
      metrics.requestFinished(f.record, f.res, f.ms);
    },
  });
  const ops = createOpsRoutes({
    metrics,
    metricsPath: config.ops.metricsPath,
    domains: config.domains,
    // On the S3 port, object names only when anyone may read the objects anyway.
    discloseObjects: config.ops.metricsPort !== undefined || auth.mode === "none",
    readiness: () => checkReadiness({ upstream, credentials: provider, credentialSource: source, timeoutMs: READINESS_TIMEOUT_MS }),
  });
  const separateOps = config.ops.metricsPort !== undefined;
  const onError = (err: unknown) => log.error("request failed outside the pipeline:", err);
  const server = listen(separateOps ? handler : withOpsRoutes(handler, ops), { host: config.host, port: config.port, tls, onError });
  const stopTlsReload = config.tls ? reloadTlsOnHangup(config.tls, server, log) : () => {};
  if (tls) log.info(`TLS certificate ${describeTlsPair(tls)}`);
  const opsServer = separateOps ? listen(opsOnly(ops), { host: config.host, port: config.ops.metricsPort!, onError }) : undefined;
  const servers = opsServer ? [server, opsServer] : [server];
  /** Land the tiers' pending writes and release the cache directory's lock. */
  const closeTiers = () => Promise.all(cache?.tiers.map((t) => t.close()) ?? []);
  return {
    server,
    url: server.url,
    handler,
    credentialSource: source,
    authMode: auth.mode,
    cache,
    metrics,
    opsServer,
    async stop() {
      auth.close();
      collector.stop();
      stopTlsReload();
      await Promise.all(servers.map((s) => s.stop(true)));
      await closeTiers();
    },
    async drain(timeoutMs) {
      stopTlsReload();
      collector.stop();
      const drained = Promise.all(servers.map((s) => s.stop(false))).then(() => true);
      const timedOut = new Promise<false>((r) => setTimeout(r, timeoutMs, false).unref());
      const finished = await Promise.race([drained, timedOut]);
      if (!finished) await Promise.all(servers.map((s) => s.stop(true)));
      await closeTiers();
      return finished;
    },
  };
}

/** A full collection each time `every` more bytes were dropped by the cache and the relay (see collection-pacer.ts); `done` counts them and their time. */
function collectWhenDropped(dropped: () => number, every: number): { done: { count: number; seconds: number }; stop: () => void } {
  const pacer = new CollectionPacer(every);
  const done = { count: 0, seconds: 0 };
  const timer = setInterval(() => {
    if (!pacer.due(dropped())) return;
    const started = performance.now();
    Bun.gc(true);
    done.count++;
    done.seconds += (performance.now() - started) / 1000;
  }, COLLECT_CHECK_MS);
  timer.unref();
  return { done, stop: () => clearInterval(timer) };
}
