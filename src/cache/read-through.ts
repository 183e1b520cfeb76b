/**
 * GET and HEAD answered through the cache: metadata from the meta cache (or a lower tier, or
 * discovered from the backend), a decision made on it (src/cache/decide.ts), and the bytes
 * from the block cache. Returns data and decisions, never a Response: src/proxy/ builds the
 * answer. Upstream I/O is injected; Bun.serve is never touched here.
 *
 * Invariants kept here:
 *  - bytes are only ever read for the version the metadata in hand names (ETag and size),
 *    and every fill is pinned to that ETag with If-Match; a fill that finds the object
 *    changed (412, or another ETag) drops the metadata and the request starts over, once;
 *  - metadata is trusted for at most the meta TTL since the backend last confirmed it,
 *    wherever it is kept (memory or a tier), and never past a write through this proxy or a
 *    change heard from another one.
 */
import { BrokenBody, S3Error } from "../s3/errors.ts";
import { queryValue, type S3Operation } from "../s3/operation.ts";
import { parseContentRange, rangeLength, type ByteRange } from "../s3/range.ts";
import { type BlockCache, type BlockRead, bytesOf, type Chunks, type RangeBody } from "./block-cache.ts";
import { bodySlice } from "./body-slice.ts";
import { decide, discoveryPlan, type Limits, type ReadRequest } from "./decide.ts";
import { Discoverer, metaFromResponse, objectHeaders, recordAnswer, versionOf, type Upstream } from "./discovery.ts";
import { metaKey, parseMetaKey, type ObjectName, type ObjectVersion } from "./keys.ts";
import type { MetaCache, ObjectMeta, RecordedAnswer } from "./meta-cache.ts";
import { hedge, LatencyWindow, type HedgeDelay } from "./hedge.ts";
import { FOOTER_GUESS, footerRanges } from "./parquet-prefetch.ts";
import type { CacheStats } from "./stats.ts";
import type { CacheTier } from "./tier.ts";

export type { Upstream };

export type CacheResult = "HIT" | "MISS" | "PARTIAL" | "STALE";

/** What the cache answers with; src/proxy/cache-response.ts turns it into the client's response. */
export type CacheAnswer =
  /** The object from cached metadata and blocks: a HEAD (200), a 304, or bytes (200 whole, 206 a range). */
  | { kind: "object"; status: 200 | 206 | 304; head: boolean; meta: ObjectMeta; result: CacheResult; range?: ByteRange; body?: RangeBody }
  /** The backend's own answer, recorded (a 404 remembered, or a discovery's 403 or 503), replayed as is. */
  | { kind: "recorded"; head: boolean; recorded: RecordedAnswer; result: CacheResult };

export interface ReadThroughOptions extends Limits {
  /** Lower tiers that also keep metadata (disk, Redis); empty for memory only. */
  tiers?: readonly CacheTier[];
  metaTtlMs?: number;
  now?: () => number;
  prefetch: boolean;
  /** Send a second identical fill when the first is slower than this (ms) or than the recent p99 ("auto"). */
  hedgeAfter?: HedgeDelay;
  /** Answer from expired metadata (and whatever blocks are cached) while the backend is unreachable. */
  serveStaleOnError?: boolean;
}

/** The backend changed the object under us (a pinned fill got 412 or 404, or the ETag moved). */
class StaleObject extends Error {}

/** The backend refused a fill (a 403, a 503...): every reader waiting on it gets that answer, as S3 gave it. */
class FillRefused extends Error {
  constructor(readonly recorded: RecordedAnswer) {
    super(`the backend answered ${recorded.status} to a cache fill`);
  }
}

export class ReadThroughCache {
  private readonly discover: Discoverer;
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
    this.discover = new Discoverer(
      upstream,
      blocks,
      {
        found: (name, meta) => {
          this.rememberMeta(name, meta);
          this.maybePrefetch(versionOf(name, meta), meta);
        },
        missing: (name, recorded) => this.meta.setMissing(name.bucket, name.key, name.versionId, recorded),
      },
      stats,
    );
    for (const tier of opts.tiers ?? []) tier.onInvalidate?.((change) => ("id" in change ? this.forgetId(change.id) : this.forgetBucket(change.bucket)));
  }

  /** Answer a GetObject or HeadObject the cache policy allowed; undefined means "forward it". */
  async serve(op: S3Operation): Promise<CacheAnswer | undefined> {
    const name = objectName(op);
    const req = readRequest(op);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.answer(name, req);
      } catch (err) {
        if (err instanceof StaleObject) {
          // Wherever that metadata is kept: a tier still holding it would bring it straight back.
          await this.forget(name);
          // Changed again while we re-read it: the backend answers this one itself.
          if (attempt === 2) return undefined;
          continue;
        }
        // An answer is sent only once all its bytes are in, so the client has seen nothing of
        // this read: ask again once, as a client's retry would, instead of failing it.
        if (err instanceof BrokenBody && attempt === 1) {
          this.stats.retriedReads++;
          continue;
        }
        return this.failed(name, req, err);
      }
    }
  }

  /** After a failure: expired metadata and cached blocks when allowed, else the backend's refusal as it gave it. */
  private async failed(name: ObjectName, req: ReadRequest, err: unknown): Promise<CacheAnswer | undefined> {
    const stale = this.opts.serveStaleOnError && backendUnreachable(err) ? this.meta.getStale(name.bucket, name.key, name.versionId) : undefined;
    if (stale) {
      try {
        return await this.answer(name, req, stale);
      } catch {
        // Blocks it needs are not cached either: the first failure stands.
      }
    }
    if (err instanceof FillRefused) return { kind: "recorded", head: req.head, recorded: err.recorded, result: "MISS" };
    throw err;
  }

  private async answer(name: ObjectName, req: ReadRequest, stale?: ObjectMeta): Promise<CacheAnswer | undefined> {
    const inMemory = this.meta.get(name.bucket, name.key, name.versionId);
    const inTiers = inMemory ? undefined : await this.metaFromTiers(name);
    const known = inMemory ?? (inTiers === "expired" ? undefined : inTiers);
    if (known?.kind === "missing") return replay(req, known.notFound, "HIT");
    let meta = known?.meta ?? stale;
    let result: CacheResult = stale ? "STALE" : "HIT";
    if (!meta) {
      result = "MISS";
      // Expired metadata in a tier means its blocks are likely there too: revalidate with a HEAD, not a ranged GET.
      const plan = discoveryPlan(req, inTiers === "expired", this.opts, this.footerFirst(name) ? FOOTER_GUESS : undefined);
      if (plan.how === "forward") return undefined;
      const first = plan.how === "range" ? this.discover.withRange(name, plan.range) : plan.how === "tail" ? this.discover.withTail(name, plan.length) : this.discover.withHead(name);
      // Only the request that asked the backend is a MISS; one that joined it costs the backend nothing.
      if (first.joined) result = "HIT";
      let found = await first.outcome;
      if (found.kind === "past-end") found = await this.discover.withHead(name).outcome;
      if (found.kind === "uncacheable") return undefined;
      if (found.kind === "answer") return replay(req, found.recorded, result);
      meta = found.meta;
    }

    const now = this.decideOn(req, meta, result);
    if (now === undefined || !("wanted" in now)) return now;
    const version = versionOf(name, meta);
    const cached = this.blocks.readCached(version, now.wanted);
    const read = cached ? { body: cached, cachedBlocks: 1, joinedBlocks: 0, fetchedBlocks: 0 } : await this.blocks.read(version, now.wanted, (o, r) => this.fetchRange(o, r));
    // What this request cost the backend: nothing (HIT, even when it waited for another's fetch), some of it, or all.
    if (result === "HIT") result = read.fetchedBlocks === 0 ? "HIT" : read.cachedBlocks + read.joinedBlocks === 0 ? "MISS" : "PARTIAL";
    return this.bytesAnswer(meta, now, result, read);
  }

  /**
   * The answer when the metadata and every block it needs are in memory, with no promise on
   * the way (the hit path runs once per request); undefined when it takes more: serve() then.
   */
  answerFromMemory(op: S3Operation): CacheAnswer | undefined {
    const name = objectName(op);
    const known = this.meta.get(name.bucket, name.key, name.versionId);
    if (known?.kind !== "found") return undefined;
    const req = readRequest(op);
    const now = this.decideOn(req, known.meta, "HIT");
    if (now === undefined || !("wanted" in now)) return now;
    const body = this.blocks.readCached(versionOf(name, known.meta), now.wanted);
    return body && this.bytesAnswer(known.meta, now, "HIT", { body, cachedBlocks: 1, joinedBlocks: 0, fetchedBlocks: 0 });
  }

  /** The decision on metadata in hand: an answer, a forward (undefined), or the bytes to read (and with what status). */
  private decideOn(req: ReadRequest, meta: ObjectMeta, result: CacheResult): CacheAnswer | undefined | { wanted: ByteRange; status: 200 | 206 } {
    const decision = decide(req, meta, this.opts);
    switch (decision.kind) {
      case "forward":
        return undefined;
      case "precondition-failed":
        throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: decision.condition });
      case "unsatisfiable":
        throw new S3Error("InvalidRange", "The requested range is not satisfiable", { RangeRequested: req.headers.get("range")!, ActualObjectSize: String(meta.size) }, { "content-range": `bytes */${meta.size}` });
      case "not-modified":
        return { kind: "object", status: 304, head: req.head, meta, result };
      case "head":
        this.stats[result === "MISS" ? "misses" : "hits"]++;
        return { kind: "object", status: 200, head: true, meta, result };
    }
    if (decision.range === undefined) return { kind: "object", status: 200, head: false, meta, result, body: new Uint8Array(0) };
    return { wanted: decision.range, status: decision.status };
  }

  /** The answer with a range's bytes, counted. */
  private bytesAnswer(meta: ObjectMeta, bytes: { wanted: ByteRange; status: 200 | 206 }, result: CacheResult, read: BlockRead): CacheAnswer {
    if (result === "STALE") this.stats.staleServed++;
    this.count(result, rangeLength(bytes.wanted), read.cachedBlocks, read.joinedBlocks + read.fetchedBlocks);
    return { kind: "object", status: bytes.status, head: false, meta, result, range: bytes.wanted, body: read.body };
  }

  /** Learn an object from a whole-object GET the caller forwarded (headers only; bytes when small). */
  learn(op: S3Operation, res: Response, body: Uint8Array | undefined): void {
    if (op.bucket === undefined || op.key === undefined) return;
    const name = objectName(op);
    if (res.status === 404 && body) {
      this.meta.setMissing(name.bucket, name.key, name.versionId, { status: 404, headers: objectHeaders(res.headers), body });
      return;
    }
    if (res.status !== 200) return;
    const meta = metaFromResponse(res.headers, Number(res.headers.get("content-length") ?? body?.byteLength));
    if (!meta) return;
    this.rememberMeta(name, meta);
    if (body && meta.cacheable && meta.size > 0 && body.byteLength === meta.size && body.byteLength <= this.opts.maxObjectSize) {
      const version = versionOf(name, meta);
      this.blocks.adopt(version, 0, this.blocks.lastBlock(version), [body]);
    }
  }

  /**
   * Forget a key (or a whole bucket) after a write through the proxy: at once here, and
   * resolved once the tiers have dropped it and told the other proxies that share them.
   */
  async invalidate(bucket: string, key?: string): Promise<void> {
    if (key === undefined) {
      this.forgetBucket(bucket);
      await Promise.all((this.opts.tiers ?? []).map((tier) => tier.invalidateBucket?.(bucket)));
    } else {
      await this.forget({ bucket, key });
    }
  }

  /** Drop an object's metadata from memory and from every tier (a shared tier tells the other proxies). */
  private async forget(name: ObjectName): Promise<void> {
    this.meta.invalidate(name.bucket, name.key, name.versionId);
    await Promise.all((this.opts.tiers ?? []).map((tier) => tier.deleteMeta(metaKey(name.bucket, name.key, name.versionId))));
  }

  /**
   * Metadata a lower tier still holds within the meta TTL (after a restart, or from another
   * proxy); "expired" when a tier holds it from longer ago.
   */
  private async metaFromTiers(name: ObjectName) {
    const tiers = this.opts.tiers ?? [];
    if (tiers.length === 0 || !this.meta.enabled) return undefined;
    const now = (this.opts.now ?? Date.now)();
    const changedAt = this.bucketsChangedAt.get(name.bucket) ?? -Infinity;
    let expired = false;
    const id = metaKey(name.bucket, name.key, name.versionId);
    for (let i = 0; i < tiers.length; i++) {
      const stored = await tiers[i]!.getMeta(id);
      if (stored && stored.learnedAt + (this.opts.metaTtlMs ?? 0) > now && stored.learnedAt > changedAt) {
        this.meta.setFound(name.bucket, name.key, name.versionId, stored.meta);
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
    const name = parseMetaKey(id);
    if (name) this.meta.invalidate(name.bucket, name.key, name.versionId);
  }

  /** Remember metadata in memory and hand it to the lower tiers. */
  private rememberMeta(name: ObjectName, meta: ObjectMeta): void {
    this.meta.setFound(name.bucket, name.key, name.versionId, meta);
    if (!this.meta.enabled) return;
    const learnedAt = (this.opts.now ?? Date.now)();
    for (const tier of this.opts.tiers ?? []) tier.putMeta(metaKey(name.bucket, name.key, name.versionId), { meta, learnedAt });
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
    // 412: another version now; 404: none at all. Either way the metadata in hand is wrong.
    if (res.status === 412 || res.status === 404) {
      await res.body?.cancel();
      throw new StaleObject();
    }
    if (res.status !== 206 && res.status !== 200) {
      const recorded = await recordAnswer(res);
      throw recorded ? new FillRefused(recorded) : new S3Error("BadGateway", `The backend answered ${res.status} to a cache fill`);
    }
    if (res.headers.get("etag") !== o.etag) {
      await res.body?.cancel();
      throw new StaleObject();
    }
    // A backend that ignored the Range header sends the whole object: keep the part asked for, as it streams.
    if (res.status === 200) return bodySlice(res.body ?? [], range.start, range.end + 1);
    const cr = parseContentRange(res.headers.get("content-range"));
    if (cr?.range?.start !== range.start || cr.range.end !== range.end) {
      await res.body?.cancel();
      throw new S3Error("BadGateway", "The backend's answer to a cache fill did not match the range asked for");
    }
    return res.body ?? [];
  }

  /** A Parquet file, when footers are prefetched: its readers ask for its end after the HEAD. */
  private footerFirst(name: ObjectName): boolean {
    return this.opts.prefetch && /\.parquet$/i.test(name.key);
  }

  /**
   * Parquet readers ask for the footer next: fetch the last 64 KiB, then the whole footer
   * once its length is known, in the background. Never delays the client's request.
   */
  private maybePrefetch(version: ObjectVersion, meta: ObjectMeta): void {
    if (!this.footerFirst(version) || !meta.cacheable || meta.size < 12) return;
    this.stats.prefetches++;
    const [tail] = footerRanges(meta.size);
    void (async () => {
      const read = await this.blocks.read(version, tail!, (o, r) => this.fetchRange(o, r));
      const [, footer] = footerRanges(meta.size, await bytesOf(read.body));
      if (footer && footer.start < tail!.start) await this.blocks.read(version, footer, (o, r) => this.fetchRange(o, r));
    })().catch(() => {});
  }
}

/** The object (and version) a GetObject or HeadObject names; the caller knows it names one. */
function objectName(op: S3Operation): ObjectName {
  return { bucket: op.bucket!, key: op.key!, versionId: queryValue(op, "versionId") };
}

function readRequest(op: S3Operation): ReadRequest {
  return { head: op.method === "HEAD", range: op.range, headers: op.headers };
}

/**
 * A recorded answer replayed to this request; undefined (forward) for a GET when it came
 * from a HEAD, which has no body to give: the client's own GET fetches the backend's.
 */
function replay(req: ReadRequest, recorded: RecordedAnswer, result: CacheResult): CacheAnswer | undefined {
  return req.head || recorded.body.length > 0 ? { kind: "recorded", head: req.head, recorded, result } : undefined;
}

/** Errors that mean the backend could not be asked at all (not an answer from it). */
function backendUnreachable(err: unknown): boolean {
  if (err instanceof FillRefused) return err.recorded.status >= 500;
  return err instanceof S3Error && (err.code === "BadGateway" || err.code === "GatewayTimeout" || err.code === "ServiceUnavailable");
}
