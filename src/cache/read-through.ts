/**
 * GET and HEAD answered through the cache: metadata from the meta cache (or learned from
 * the backend), bytes from the block cache, conditionals evaluated locally, the exact
 * range sliced out. Cold objects are discovered with the client's own read (an aligned
 * ranged GET) rather than an extra HEAD, so a first read costs one backend round trip like
 * going direct. Upstream I/O is injected; Bun.serve is never touched here.
 */
import { S3Error } from "../s3/errors.ts";
import { queryValue, type S3Operation } from "../s3/operation.ts";
import { contentRange, parseContentRange, parseRange, rangeLength, resolveRange, type ByteRange } from "../s3/range.ts";
import type { UpstreamRequest } from "../upstream/client.ts";
import { BlockCache, bytesOf, type Chunks, type ObjectVersion } from "./block-cache.ts";
import { evaluateConditions } from "./conditionals.ts";
import { MetaCache, metaKey, type NotFound, type ObjectMeta } from "./meta-cache.ts";
import { backendAllowsCaching } from "./policy.ts";
import { hedge, LatencyWindow, type HedgeDelay } from "./hedge.ts";
import { footerRanges } from "./parquet-prefetch.ts";
import type { CacheStats } from "./stats.ts";
import type { CacheTier } from "./tier.ts";

export type CacheResult = "HIT" | "MISS" | "PARTIAL" | "STALE";

export interface CachedAnswer {
  response: Response;
  result: CacheResult;
  /** The backend's own answer (an error the cache does not keep), to be relayed as is. */
  fromBackend?: boolean;
}

export interface Upstream {
  send(req: UpstreamRequest): Promise<Response>;
}

export interface ReadThroughOptions {
  /** Lower tiers that also keep metadata (disk, Redis); empty for memory only. */
  tiers?: readonly CacheTier[];
  metaTtlMs?: number;
  now?: () => number;
  /** Largest object whose whole-object GET is cached. */
  maxObjectSize: number;
  /** Largest range answered through the blocks; longer ones are forwarded, so one read cannot flush the cache. */
  maxRangeSize: number;
  prefetch: boolean;
  /** Send a second identical fill when the first is slower than this (ms) or than the recent p99 ("auto"). */
  hedgeAfter?: HedgeDelay;
  /** Answer from expired metadata (and whatever blocks are cached) while the backend is unreachable. */
  serveStaleOnError?: boolean;
}

/** Headers that describe one response, not the object: never stored in metadata. */
const PER_RESPONSE = new Set(["content-length", "content-range", "date", "server", "connection", "keep-alive", "transfer-encoding", "x-amz-request-id", "x-amz-id-2", "x-cache", "x-amz-mp-parts-count"]);

/** The backend changed the object under us (a pinned fill got 412, or the ETag moved). */
class StaleObject extends Error {}

export class ReadThroughCache {
  private readonly discovering = new Map<string, Promise<ObjectMeta | undefined>>();
  /** When each bucket last had keys changed that we could not name (see forgetBucket). */
  private readonly bucketsChangedAt = new Map<string, number>();
  private readonly fillTimes = new LatencyWindow();

  constructor(
    private readonly meta: MetaCache,
    private readonly blocks: BlockCache,
    private readonly upstream: Upstream,
    private readonly stats: CacheStats,
    private readonly opts: ReadThroughOptions,
  ) {
    for (const tier of opts.tiers ?? []) tier.onInvalidate?.((change) => ("id" in change ? this.forgetId(change.id) : this.forgetBucket(change.bucket)));
  }

  /** Answer a GetObject or HeadObject the cache policy allowed; undefined means "forward it". */
  async serve(op: S3Operation): Promise<CachedAnswer | undefined> {
    try {
      return await this.answer(op);
    } catch (err) {
      if (err instanceof StaleObject) {
        this.meta.invalidate(op.bucket!, op.key!, queryValue(op, "versionId"));
        return this.answer(op);
      }
      const stale = this.opts.serveStaleOnError && backendUnreachable(err) ? this.meta.getStale(op.bucket!, op.key!, queryValue(op, "versionId")) : undefined;
      if (!stale) throw err;
      return this.answer(op, stale);
    }
  }

  private async answer(op: S3Operation, stale?: ObjectMeta): Promise<CachedAnswer | undefined> {
    const bucket = op.bucket!;
    const key = op.key!;
    const versionId = queryValue(op, "versionId");
    const isHead = op.method === "HEAD";
    const inMemory = this.meta.get(bucket, key, versionId);
    const inTiers = inMemory ? undefined : await this.metaFromTiers(bucket, key, versionId);
    const known = inMemory ?? (inTiers === "expired" ? undefined : inTiers);
    // Expired metadata in a tier means its blocks are likely there too: revalidate with a HEAD, not a ranged GET.
    const revalidate = inTiers === "expired";

    if (known?.kind === "missing") {
      if (isHead || known.notFound.body.length > 0) return { response: replayNotFound(known.notFound, isHead), result: "HIT" };
      return undefined;
    }
    let meta = known?.meta ?? stale;
    let result: CacheResult = stale ? "STALE" : "HIT";
    const range = isHead ? undefined : parseRange(op.headers.get("range"));

    if (!meta) {
      result = "MISS";
      if (!isHead && !revalidate && range !== undefined && range !== "ignored" && range !== "multi" && range.kind === "bounded") {
        const discovered = await this.discoverWithRange(bucket, key, versionId, range);
        if (discovered === "past-end") {
          const head = await this.discoverWithHead(bucket, key, versionId);
          if (head instanceof Response) return undefined; // Not a 200: the client's own GET fetches the backend's answer.
          meta = head;
        } else if (discovered instanceof Response) return { response: discovered, result, fromBackend: true };
        else meta = discovered;
      } else if (!isHead && !revalidate && (range === undefined || range === "ignored")) {
        return undefined; // A whole-object GET of an unknown object: forwarded, learned from its answer by the caller.
      } else {
        const head = await this.discoverWithHead(bucket, key, versionId);
        if (head instanceof Response) return isHead ? { response: head, result } : undefined;
        meta = head;
      }
    }

    const condition = evaluateConditions(op.headers, meta);
    if (condition === "precondition-failed") {
      throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: op.headers.has("if-match") ? "If-Match" : "If-Unmodified-Since" });
    }
    if (condition === "not-modified") return { response: new Response(null, { status: 304, headers: responseHeaders(meta, result) }), result };
    if (isHead) {
      this.stats[result === "MISS" ? "misses" : "hits"]++;
      return { response: new Response(null, { status: 200, headers: { ...responseHeaders(meta, result), "content-length": String(meta.size) } }), result };
    }

    let wanted: ByteRange;
    let status = 206;
    if (range === undefined || range === "ignored" || range === "multi") {
      if (meta.size > this.opts.maxObjectSize || !meta.cacheable) return undefined;
      if (meta.size === 0) return { response: new Response(new Uint8Array(0), { status: 200, headers: responseHeaders(meta, result) }), result };
      wanted = { start: 0, end: meta.size - 1 };
      status = 200;
    } else {
      const resolved = resolveRange(range, meta.size);
      if (resolved === "unsatisfiable") {
        throw new S3Error("InvalidRange", "The requested range is not satisfiable", { RangeRequested: op.headers.get("range")!, ActualObjectSize: String(meta.size) }, { "content-range": `bytes */${meta.size}` });
      }
      wanted = resolved;
    }
    if (!meta.cacheable || (status === 206 && rangeLength(wanted) > this.opts.maxRangeSize)) return undefined;

    const version = versionOf(bucket, key, versionId, meta);
    const cached = this.blocks.readCached(version, wanted);
    const read = cached ? { body: cached, cachedBlocks: 1, fetchedBlocks: 0 } : await this.blocks.read(version, wanted, (o, r) => this.fetchRange(o, r));
    if (result === "HIT") result = read.fetchedBlocks === 0 ? "HIT" : read.cachedBlocks === 0 ? "MISS" : "PARTIAL";
    if (result === "STALE") this.stats.staleServed++;
    const length = rangeLength(wanted);
    this.count(result, length, read.cachedBlocks, read.fetchedBlocks);
    // Content-Length is what Bun sends anyway; set here so the access log can read it.
    const headers = { ...responseHeaders(meta, result), "content-length": String(length), ...(status === 206 ? { "content-range": contentRange(wanted, meta.size) } : {}) };
    return { response: new Response(read.body, { status, headers }), result };
  }

  /** Learn an object from a whole-object GET the caller forwarded (headers only; bytes when small). */
  learn(op: S3Operation, res: Response, body: Uint8Array | undefined): void {
    if (op.bucket === undefined || op.key === undefined) return;
    const versionId = queryValue(op, "versionId");
    if (res.status === 404 && body) {
      this.meta.setMissing(op.bucket, op.key, versionId, { status: 404, headers: [...copyHeaders(res.headers)], body });
      return;
    }
    if (res.status !== 200) return;
    const meta = metaFromResponse(res.headers, Number(res.headers.get("content-length") ?? body?.byteLength));
    if (!meta) return;
    this.rememberMeta(op.bucket, op.key, versionId, meta);
    if (body && meta.cacheable && meta.size > 0 && body.byteLength <= this.opts.maxObjectSize) {
      const version = versionOf(op.bucket, op.key, versionId, meta);
      this.blocks.adopt(version, 0, this.blocks.lastBlock(version), [body]);
    }
  }

  /** Forget a key after a write through the proxy. */
  invalidate(bucket: string, key?: string): void {
    if (key === undefined) {
      this.forgetBucket(bucket);
      for (const tier of this.opts.tiers ?? []) tier.invalidateBucket?.(bucket);
    }
    else {
      this.meta.invalidate(bucket, key);
      for (const tier of this.opts.tiers ?? []) tier.deleteMeta(metaKey(bucket, key));
    }
  }

  /**
   * Metadata a lower tier still holds within the meta TTL (after a restart, or from another
   * proxy); "expired" when a tier holds it from longer ago.
   */
  private async metaFromTiers(bucket: string, key: string, versionId: string | undefined) {
    const tiers = this.opts.tiers ?? [];
    if (tiers.length === 0 || !this.meta.enabled) return undefined;
    const now = (this.opts.now ?? Date.now)();
    const changedAt = this.bucketsChangedAt.get(bucket) ?? -Infinity;
    let expired = false;
    const id = metaKey(bucket, key, versionId);
    for (let i = 0; i < tiers.length; i++) {
      const stored = await tiers[i]!.getMeta(id);
      if (stored && stored.learnedAt + (this.opts.metaTtlMs ?? 0) > now && stored.learnedAt > changedAt) {
        this.meta.setFound(bucket, key, versionId, stored.meta);
        for (let j = 0; j < i; j++) tiers[j]!.putMeta(id, stored);
        return { kind: "found" as const, meta: stored.meta };
      }
      expired ||= stored !== undefined;
    }
    return expired ? ("expired" as const) : undefined;
  }

  /**
   * A bucket's keys changed unnamed (DeleteObjects, here or heard from another proxy): drop
   * its metadata from memory, and distrust what the tiers learned of it before now.
   */
  private forgetBucket(bucket: string): void {
    this.meta.invalidateBucket(bucket);
    this.bucketsChangedAt.set(bucket, (this.opts.now ?? Date.now)());
  }

  /** Another proxy wrote this key (heard through a shared tier): drop it from memory. */
  private forgetId(id: string): void {
    const first = id.indexOf("\u0000");
    const last = id.lastIndexOf("\u0000");
    if (first === -1 || last === first) return;
    const versionId = id.slice(last + 1);
    this.meta.invalidate(id.slice(0, first), id.slice(first + 1, last), versionId === "" ? undefined : versionId);
  }

  /** Remember metadata in memory and hand it to the lower tiers. */
  private rememberMeta(bucket: string, key: string, versionId: string | undefined, meta: ObjectMeta): void {
    this.meta.setFound(bucket, key, versionId, meta);
    if (!this.meta.enabled) return;
    const learnedAt = (this.opts.now ?? Date.now)();
    for (const tier of this.opts.tiers ?? []) tier.putMeta(metaKey(bucket, key, versionId), { meta, learnedAt });
  }

  private count(result: CacheResult, bytes: number, cachedBlocks: number, fetchedBlocks: number): void {
    if (result === "HIT" || result === "STALE") this.stats.hits++;
    else if (result === "MISS") this.stats.misses++;
    else this.stats.partialHits++;
    const total = cachedBlocks + fetchedBlocks;
    this.stats.bytesFromCache += total === 0 ? 0 : Math.round((bytes * cachedBlocks) / total);
  }

  /** One pinned upstream range request for a run of blocks, hedged when configured (on the time to the backend's answer). */
  private async fetchRange(o: ObjectVersion, range: ByteRange): Promise<Chunks> {
    const started = performance.now();
    const delay = this.opts.hedgeAfter === "auto" ? this.fillTimes.p99() : this.opts.hedgeAfter;
    const { value, hedged } = await hedge((signal) => this.fetchRangeOnce(o, range, signal), delay);
    if (hedged) this.stats.hedges++;
    this.fillTimes.add(performance.now() - started);
    return value;
  }

  private async fetchRangeOnce(o: ObjectVersion, range: ByteRange, signal: AbortSignal): Promise<Chunks> {
    this.stats.upstreamRequests++;
    const headers = new Headers({ range: `bytes=${range.start}-${range.end}`, "if-match": o.etag });
    const res = await this.upstream.send({ method: "GET", bucket: o.bucket, key: o.key, query: o.versionId ? [["versionId", o.versionId]] : [], headers, signal });
    if (res.status === 412) {
      await res.body?.cancel();
      throw new StaleObject();
    }
    if (res.status !== 206 && res.status !== 200) {
      await res.body?.cancel();
      throw new S3Error("BadGateway", `The backend answered ${res.status} to a cache fill`);
    }
    if (res.headers.get("etag") !== o.etag) {
      await res.body?.cancel();
      throw new StaleObject();
    }
    // A backend that ignored the Range header sent the whole object: keep the part asked for.
    if (res.status === 200) return [(await res.bytes()).subarray(range.start, range.end + 1)];
    const cr = parseContentRange(res.headers.get("content-range"));
    if (cr?.range?.start !== range.start || cr.range.end !== range.end) {
      await res.body?.cancel();
      throw new S3Error("BadGateway", "The backend's answer to a cache fill did not match the range asked for");
    }
    return res.body ?? [];
  }

  /**
   * Discover an unknown object with the client's own read widened to whole blocks. Concurrent
   * cold readers of the same object wait for this one answer's headers, then find its blocks
   * in flight. Returns the backend's answer itself when it is not a cacheable 206/200, and
   * "past-end" for a 416 (the size is then learned with a HEAD and the 416 built like S3's).
   */
  private async discoverWithRange(bucket: string, key: string, versionId: string | undefined, range: { start: number; end: number }): Promise<ObjectMeta | Response | "past-end"> {
    const id = metaKey(bucket, key, versionId);
    const pending = this.discovering.get(id);
    if (pending) {
      this.stats.coalescedWaits++;
      const meta = await pending;
      if (meta) return meta;
    }
    const bs = this.blocks.blockSize;
    const aligned = { start: Math.floor(range.start / bs) * bs, end: (Math.floor(range.end / bs) + 1) * bs - 1 };
    let settle!: (m: ObjectMeta | undefined) => void;
    const discovery = new Promise<ObjectMeta | undefined>((r) => (settle = r));
    this.discovering.set(id, discovery);
    try {
      this.stats.upstreamRequests++;
      const res = await this.upstream.send({ method: "GET", bucket, key, query: versionId ? [["versionId", versionId]] : [], headers: new Headers({ range: `bytes=${aligned.start}-${aligned.end}` }) });
      if (res.status === 404) {
        const notFound = await rememberNotFound(res);
        this.meta.setMissing(bucket, key, versionId, notFound);
        return replayNotFound(notFound, false);
      }
      if (res.status === 416) {
        await res.body?.cancel();
        settle(undefined);
        return "past-end";
      }
      const cr = parseContentRange(res.headers.get("content-range"));
      const size = res.status === 206 ? cr?.size : res.status === 200 ? Number(res.headers.get("content-length")) : undefined;
      const meta = size === undefined || Number.isNaN(size) ? undefined : metaFromResponse(res.headers, size);
      if (!meta || (res.status === 206 && cr?.range?.start !== aligned.start)) {
        settle(undefined);
        return res;
      }
      this.rememberMeta(bucket, key, versionId, meta);
      const version = versionOf(bucket, key, versionId, meta);
      const first = res.status === 200 ? 0 : aligned.start / bs;
      const last = res.status === 200 ? this.blocks.lastBlock(version) : Math.floor(cr!.range!.end / bs);
      if (meta.cacheable && meta.size > 0) {
        this.blocks.adopt(version, first, last, res.body ?? []);
      } else {
        await res.body?.cancel();
      }
      settle(meta);
      this.maybePrefetch(version, meta);
      return meta;
    } catch (err) {
      settle(undefined);
      throw err;
    } finally {
      this.discovering.delete(id);
    }
  }

  /** Discover an object's metadata with one (coalesced) HEAD. A non-200 answer comes back as is. */
  private async discoverWithHead(bucket: string, key: string, versionId: string | undefined): Promise<ObjectMeta | Response> {
    const id = metaKey(bucket, key, versionId) + "\u0000HEAD";
    let pending = this.discovering.get(id);
    let response: Response | undefined;
    if (pending) {
      this.stats.coalescedWaits++;
    } else {
      pending = (async () => {
        this.stats.upstreamRequests++;
        const res = await this.upstream.send({ method: "HEAD", bucket, key, query: versionId ? [["versionId", versionId]] : [], headers: new Headers() });
        await res.body?.cancel();
        if (res.status === 404) this.meta.setMissing(bucket, key, versionId, { status: 404, headers: [...copyHeaders(res.headers)], body: new Uint8Array(0) });
        const meta = res.status === 200 ? metaFromResponse(res.headers, Number(res.headers.get("content-length"))) : undefined;
        if (meta) {
          this.rememberMeta(bucket, key, versionId, meta);
          this.maybePrefetch(versionOf(bucket, key, versionId, meta), meta);
        } else {
          response = new Response(null, { status: res.status, headers: copyHeaders(res.headers) });
        }
        return meta;
      })();
      this.discovering.set(id, pending);
      pending.finally(() => this.discovering.delete(id)).catch(() => {});
    }
    const meta = await pending;
    if (meta) return meta;
    const known = this.meta.get(bucket, key, versionId);
    if (known?.kind === "missing") return replayNotFound(known.notFound, true);
    return response ?? new Response(null, { status: 503 });
  }

  /**
   * Parquet readers ask for the footer next: fetch the last 64 KiB, then the whole footer
   * once its length is known, in the background. Never delays the client's request.
   */
  private maybePrefetch(version: ObjectVersion, meta: ObjectMeta): void {
    if (!this.opts.prefetch || !meta.cacheable || !/\.parquet$/i.test(version.key) || meta.size < 12) return;
    this.stats.prefetches++;
    const [tail] = footerRanges(meta.size);
    void (async () => {
      const read = await this.blocks.read(version, tail!, (o, r) => this.fetchRange(o, r));
      const [, footer] = footerRanges(meta.size, await bytesOf(read.body));
      if (footer && footer.start < tail!.start) await this.blocks.read(version, footer, (o, r) => this.fetchRange(o, r));
    })().catch(() => {});
  }
}

/** Errors that mean the backend could not be asked at all (not an answer from it). */
function backendUnreachable(err: unknown): boolean {
  return err instanceof S3Error && (err.code === "BadGateway" || err.code === "GatewayTimeout" || err.code === "ServiceUnavailable");
}

function versionOf(bucket: string, key: string, versionId: string | undefined, meta: ObjectMeta): ObjectVersion {
  return { bucket, key, versionId, etag: meta.etag, size: meta.size };
}

function copyHeaders(from: Headers): Headers {
  const out = new Headers();
  from.forEach((v, k) => {
    if (!PER_RESPONSE.has(k)) out.append(k, v);
  });
  return out;
}

/** Object metadata from a GET/HEAD answer; undefined when it lacks an ETag or size. */
function metaFromResponse(headers: Headers, size: number | undefined): ObjectMeta | undefined {
  const etag = headers.get("etag");
  if (!etag || size === undefined || !Number.isSafeInteger(size) || size < 0) return undefined;
  const kept: Array<[string, string]> = [];
  headers.forEach((v, k) => {
    if (!PER_RESPONSE.has(k) && !k.startsWith("x-amz-checksum-")) kept.push([k, v]);
  });
  return { size, etag, lastModified: headers.get("last-modified") ?? undefined, headers: kept, cacheable: backendAllowsCaching(headers) };
}

/** Object headers as a plain record, built once per metadata entry (the hit path spreads it). */
const headerRecords = new WeakMap<ObjectMeta, Record<string, string>>();

function responseHeaders(meta: ObjectMeta, result: CacheResult): Record<string, string> {
  let record = headerRecords.get(meta);
  if (!record) {
    record = {};
    for (const [k, v] of meta.headers) record[k] = record[k] === undefined ? v : `${record[k]}, ${v}`;
    headerRecords.set(meta, record);
  }
  return { ...record, "x-cache": result };
}

async function rememberNotFound(res: Response): Promise<NotFound> {
  return { status: res.status, headers: [...copyHeaders(res.headers)], body: await res.bytes() };
}

function replayNotFound(nf: NotFound, isHead: boolean): Response {
  return new Response(isHead ? null : nf.body, { status: nf.status, headers: new Headers(nf.headers as Array<[string, string]>) });
}
