/**
 * The proxy's metrics, named by Prometheus conventions (`s3proxy_` prefix, `_total`,
 * `_bytes`, `_seconds`). Request counts and durations are recorded as requests finish;
 * cache and server figures are read from their owners when scraped, so nothing is counted
 * twice. The same figures feed the status page (`snapshot()`), so the two always agree.
 */
import type { ByteBudget } from "../byte-budget.ts";
import type { LruUsage } from "../cache/lru.ts";
import type { CacheStats } from "../cache/stats.ts";
import type { CacheTier } from "../cache/tier.ts";
import type { RequestRecord } from "../proxy/request-record.ts";
import { VERSION } from "../version.ts";
import { Registry, type Collected } from "./prometheus.ts";
import { TopN } from "./top-n.ts";

export interface MetricSources {
  /** Undefined when caching is off. */
  cache?: { store: LruUsage; stats: CacheStats; tiers?: readonly CacheTier[]; fills?: Pick<ByteBudget, "inUse" | "queued"> };
  /** Requests being served right now (bodies still streaming included). */
  inFlight: () => number;
  /** Full garbage collections the proxy ran because the cache churned (collection-pacer.ts), and their time. */
  collections?: () => { count: number; seconds: number };
  /** Milliseconds since the epoch; injected so tests can pin it. */
  now?: () => number;
}

/** Latency buckets in seconds: sub-millisecond memory hits up to minute-long transfers. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Objects tracked for the status page's "top objects" (Space-Saving; a few KB at most). */
const TOP_CAPACITY = 200;

/** What went wrong talking to the backend. */
export type UpstreamErrorKind = "unreachable" | "timeout" | "bad_answer" | "backend_5xx";

export interface StatusSnapshot {
  version: string;
  uptimeSeconds: number;
  requests: number;
  inFlight: number;
  cache: {
    enabled: boolean;
    hits: number;
    misses: number;
    partialHits: number;
    /** Full hits over all cache lookups (0 before the first lookup). */
    hitRatio: number;
    bytesFromCache: number;
    bytesFromUpstream: number;
    usedBytes: number;
    limitBytes: number;
    evictions: number;
  };
  topObjects: Array<{ object: string; hits: number }>;
  /** True when the top objects are withheld from this endpoint (client auth on, S3 port). */
  topObjectsHidden?: true;
}

export class ProxyMetrics {
  private readonly registry = new Registry();
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly requests;
  private readonly duration;
  private readonly upstreamDuration;
  private readonly forwardedBytes;
  private readonly upstreamErrors;
  private readonly authFailures;
  private readonly topObjects = new TopN(TOP_CAPACITY);
  private readonly perRequest = new Map<string, { requests: { value: number }; duration: (seconds: number) => void }>();

  constructor(private readonly sources: MetricSources) {
    this.now = sources.now ?? Date.now;
    this.startedAt = this.now();
    const r = this.registry;
    const stats = sources.cache?.stats;
    const store = sources.cache?.store;
    const fromStats = (read: (s: CacheStats) => number) => (): Collected => (stats ? read(stats) : 0);

    r.gauge("s3proxy_build_info", "Build information (always 1)", () => [[{ version: VERSION }, 1]]);
    this.requests = r.counter("s3proxy_requests_total", "Requests answered, by S3 operation and HTTP status");
    this.duration = r.histogram("s3proxy_request_duration_seconds", "Time to answer a request (until the response headers), by S3 operation", DURATION_BUCKETS);
    this.upstreamDuration = r.histogram("s3proxy_upstream_duration_seconds", "Time the backend took to answer a forwarded request, by S3 operation", DURATION_BUCKETS);
    r.gauge("s3proxy_in_flight_requests", "Requests being served, including bodies still streaming", () => sources.inFlight());
    r.gauge("s3proxy_resident_memory_bytes", "Resident set size of the proxy process", () => process.memoryUsage.rss());
    r.gauge(
      "s3proxy_js_memory_bytes",
      "Memory the JavaScript engine accounts for: heap (objects, and the bytes of the Blobs they hold: the cache's extents) and array_buffers (buffers outside the heap: chunks arriving from the backend, for fills and streamed bodies). Resident memory beyond both is native: bytes held for responses still being sent, socket buffers, the allocator's free pages, code",
      () => {
        const m = process.memoryUsage();
        return [
          [{ kind: "heap" }, m.heapUsed],
          [{ kind: "array_buffers" }, m.arrayBuffers],
        ];
      },
    );
    r.collectedCounter("s3proxy_memory_collections_total", "Full garbage collections run because the cache and the relay dropped enough memory since the last one (see src/cache/collection-pacer.ts)", () => sources.collections?.().count ?? 0);
    r.collectedCounter("s3proxy_memory_collection_seconds_total", "Time the event loop spent in those collections", () => sources.collections?.().seconds ?? 0);
    r.collectedCounter("s3proxy_cache_requests_total", "Cache lookups by result: hit (no backend request: memory or a lower tier), miss, partial (some blocks fetched)", () =>
      stats
        ? [
            [{ result: "hit" }, stats.hits],
            [{ result: "miss" }, stats.misses],
            [{ result: "partial" }, stats.partialHits],
          ]
        : [],
    );
    r.collectedCounter(
      "s3proxy_bytes_from_cache_total",
      "Response body bytes served from the cache",
      fromStats((s) => s.bytesFromCache),
    );
    this.forwardedBytes = r.counter("s3proxy_forwarded_bytes_total", "Response body bytes of requests forwarded to the backend (known Content-Length)");
    r.collectedCounter("s3proxy_bytes_from_upstream_total", "Bytes received from the backend: forwarded bodies and cache fills", () => this.bytesFromUpstream());
    r.collectedCounter(
      "s3proxy_bytes_from_tiers_total",
      "Bytes read from lower cache tiers",
      fromStats((s) => s.bytesFromTiers),
    );
    const tiers = sources.cache?.tiers ?? [];
    r.collectedCounter("s3proxy_cache_tier_events_total", "Lower cache tier (disk, redis) events: hits, misses, writes, failures (answered as misses), corrupt (dropped), evictions, heard (invalidations from other proxies)", () =>
      tiers.flatMap((t) => Object.entries(t.counters).map(([event, n]): [Record<string, string>, number] => [{ tier: t.name, event }, n as number])),
    );
    r.gauge("s3proxy_cache_used_bytes", "Bytes held in the memory cache", () => store?.bytesHeld ?? 0);
    r.gauge("s3proxy_cache_reserved_bytes", "Bytes of the memory cache set aside for fills still arriving from the backend", () => store?.bytesReserved ?? 0);
    const fills = sources.cache?.fills;
    r.gauge("s3proxy_cache_fill_bytes", "Bytes of backend fills in flight, within the fill budget (an eighth of the cache size)", () => fills?.inUse ?? 0);
    r.gauge("s3proxy_cache_fills_waiting", "Backend fills waiting for room in the fill budget (bursts of cold reads queue here)", () => fills?.queued ?? 0);
    r.gauge("s3proxy_cache_limit_bytes", "Memory cache limit (0: caching off)", () => store?.limit ?? 0);
    r.collectedCounter("s3proxy_cache_evictions_total", "Runs of blocks (each fill is kept together) evicted from the memory cache", () => store?.evictions ?? 0);
    r.collectedCounter(
      "s3proxy_cache_coalesced_waits_total",
      "Reads that waited for another request's backend fetch instead of making their own",
      fromStats((s) => s.coalescedWaits),
    );
    r.collectedCounter(
      "s3proxy_cache_prefetches_total",
      "Parquet footer prefetches started",
      fromStats((s) => s.prefetches),
    );
    r.collectedCounter(
      "s3proxy_cache_retried_reads_total",
      "Reads asked again because the backend's answer broke off mid-body (reset, stall, short body) before anything was sent to the client",
      fromStats((s) => s.retriedReads),
    );
    r.collectedCounter(
      "s3proxy_cache_upstream_requests_total",
      "Backend requests made by the cache (discovery and fills)",
      fromStats((s) => s.upstreamRequests),
    );
    this.upstreamErrors = r.counter("s3proxy_upstream_errors_total", "Failed backend exchanges, by kind: unreachable, timeout, bad_answer, backend_5xx");
    this.authFailures = r.counter("s3proxy_auth_failures_total", "Client requests refused by authentication, by S3 error code");
  }

  /** Record a finished request (called once per request by the pipeline). */
  requestFinished(record: RequestRecord, res: Response, ms: number): void {
    const operation = record.op?.kind ?? "Invalid";
    const series = this.seriesOf(operation, res.status);
    series.requests.value++;
    series.duration(ms / 1000);
    if (record.upstreamMs !== undefined) {
      this.upstreamDuration.observe(record.upstreamMs / 1000, { operation });
      this.forwardedBytes.inc({}, bodyBytes(res) ?? 0);
      if (res.status >= 500 && record.error === undefined) this.recordUpstreamError("backend_5xx");
    }
    if (record.error === "BadGateway") this.recordUpstreamError(record.upstreamMs === undefined ? "unreachable" : "bad_answer");
    else if (record.error === "GatewayTimeout") this.recordUpstreamError("timeout");
    if (record.authFailure !== undefined) this.recordAuthFailure(record.authFailure);
    if ((record.cache === "HIT" || record.cache === "PARTIAL") && record.op?.key !== undefined) this.topObjects.add(`${record.op.bucket}/${record.op.key}`);
  }

  /** The request series of an operation and status, kept: looked up once, not labelled per request. */
  private seriesOf(operation: string, status: number): { requests: { value: number }; duration: (seconds: number) => void } {
    const key = `${operation} ${status}`;
    let series = this.perRequest.get(key);
    if (!series) this.perRequest.set(key, (series = { requests: this.requests.series({ operation, status: String(status) }), duration: this.duration.observer({ operation }) }));
    return series;
  }

  recordUpstreamError(kind: UpstreamErrorKind): void {
    this.upstreamErrors.inc({ kind });
  }

  /** Every request refused by client authentication, with the S3 error code sent. */
  recordAuthFailure(code: string): void {
    this.authFailures.inc({ code });
  }

  render(): string {
    return this.registry.render();
  }

  snapshot({ topN = 10, objects = true }: { topN?: number; objects?: boolean } = {}): StatusSnapshot {
    const stats = this.sources.cache?.stats;
    const store = this.sources.cache?.store;
    const hits = stats?.hits ?? 0;
    const misses = stats?.misses ?? 0;
    const partialHits = stats?.partialHits ?? 0;
    const lookups = hits + misses + partialHits;
    return {
      version: VERSION,
      uptimeSeconds: (this.now() - this.startedAt) / 1000,
      requests: this.requests.total(),
      inFlight: this.sources.inFlight(),
      cache: {
        enabled: this.sources.cache !== undefined,
        hits,
        misses,
        partialHits,
        hitRatio: lookups === 0 ? 0 : hits / lookups,
        bytesFromCache: stats?.bytesFromCache ?? 0,
        bytesFromUpstream: this.bytesFromUpstream(),
        usedBytes: store?.bytesHeld ?? 0,
        limitBytes: store?.limit ?? 0,
        evictions: store?.evictions ?? 0,
      },
      topObjects: objects ? this.topObjects.top(topN).map((e) => ({ object: e.item, hits: e.count })) : [],
      ...(objects ? {} : { topObjectsHidden: true as const }),
    };
  }

  private bytesFromUpstream(): number {
    return this.forwardedBytes.total() + (this.sources.cache?.stats.bytesFromUpstream ?? 0);
  }
}

/** Body bytes of a response: its Content-Length, else the span of its Content-Range; undefined for an unknown-length stream. */
export function bodyBytes(res: Response): number | undefined {
  const length = res.headers.get("content-length");
  if (length !== null && /^\d+$/.test(length)) return Number(length);
  if (res.body === null) return 0;
  const range = /^bytes (\d+)-(\d+)\//.exec(res.headers.get("content-range") ?? "");
  return range ? Number(range[2]) - Number(range[1]) + 1 : undefined;
}
