/**
 * Learning an object the cache does not know (or no longer trusts): with the client's own
 * read widened to whole blocks, so a first read costs one backend round trip like going
 * direct, or with a HEAD. Concurrent discoveries of one object are one backend request
 * (single-flight), and every caller receives its outcome as data it can replay: the
 * metadata, or the backend's own non-cacheable answer (a 404, a 403, a 503...) recorded
 * with its status, headers and body. Upstream I/O is injected.
 *
 * Invariants kept here:
 *  - a widened read's body is adopted as blocks of exactly the version its headers name
 *    (ETag and size from the same answer), starting at the block the answer starts at;
 *  - an answer that does not start where it was asked to, or lacks an ETag or size, is
 *    never adopted ("uncacheable": every waiter forwards its own request);
 *  - no caller can be left waiting: the outcome is settled by the one call every caller
 *    shares, on every path, including errors.
 */
import { parseContentRange, type ByteRange } from "../s3/range.ts";
import type { UpstreamRequest } from "../upstream/client.ts";
import type { BlockCache, Chunks } from "./block-cache.ts";
import { bodySlice } from "./body-slice.ts";
import { metaKey, type ObjectName, type ObjectVersion } from "./keys.ts";
import type { ObjectMeta, RecordedAnswer } from "./meta-cache.ts";
import { backendAllowsCaching } from "./policy.ts";
import { SingleFlight } from "./single-flight.ts";

export interface Upstream {
  send(req: UpstreamRequest): Promise<Response>;
}

export type Discovery =
  | { kind: "found"; meta: ObjectMeta }
  /** The backend's own answer, which the cache does not turn into metadata: replayed as is. */
  | { kind: "answer"; recorded: RecordedAnswer }
  /** The widened read started past the end (416): the size is unknown, ask with a HEAD. */
  | { kind: "past-end" }
  /** A success the cache cannot use (no ETag or size, an unexpected range, a huge error body): forward. */
  | { kind: "uncacheable" };

/** A discovery's outcome, and whether this caller joined one already in flight. */
export type Joined<D> = { outcome: Promise<D>; joined: boolean };

/** What a HEAD can tell: never "past-end". */
export type HeadDiscovery = Exclude<Discovery, { kind: "past-end" }>;

export interface DiscoveryEvents {
  /** The backend described the object: remember it (memory and tiers). */
  found(name: ObjectName, meta: ObjectMeta): void;
  /** The backend answered 404: remember it for the negative TTL. */
  missing(name: ObjectName, recorded: RecordedAnswer): void;
}

/** Largest error body recorded for replay; a longer one is forwarded instead. */
const MAX_RECORDED_BODY = 64 * 1024;

/** Headers that describe one response, not the object: never stored in metadata. */
const PER_RESPONSE = new Set(["content-length", "content-range", "date", "server", "connection", "keep-alive", "transfer-encoding", "x-amz-request-id", "x-amz-id-2", "x-cache", "x-amz-mp-parts-count"]);

export class Discoverer {
  private readonly byRange = new SingleFlight<Discovery>();
  private readonly byHead = new SingleFlight<HeadDiscovery>();

  constructor(
    private readonly upstream: Upstream,
    private readonly blocks: BlockCache,
    private readonly events: DiscoveryEvents,
    /** Counts upstream requests and coalesced waits. */
    private readonly stats: { upstreamRequests: number; coalescedWaits: number },
  ) {}

  /**
   * Discover with the client's bounded range widened to whole blocks. Concurrent cold
   * readers of the object share this one answer, then find its blocks in flight.
   */
  withRange(name: ObjectName, range: ByteRange): Joined<Discovery> {
    return this.coalesced(this.byRange, name, async () => {
      const bs = this.blocks.blockSize;
      const aligned = { start: Math.floor(range.start / bs) * bs, end: (Math.floor(range.end / bs) + 1) * bs - 1 };
      // The widened read's bytes are held until its blocks are stored: they wait for room like any fill.
      const release = await this.blocks.admit(aligned.end - aligned.start + 1);
      let adopted = false;
      try {
        const res = await this.send("GET", name, new Headers({ range: `bytes=${aligned.start}-${aligned.end}` }));
        if (res.status === 416) {
          await res.body?.cancel();
          return { kind: "past-end" };
        }
        if (res.status !== 200 && res.status !== 206) return await this.recorded(name, res);
        const cr = parseContentRange(res.headers.get("content-range"));
        const size = res.status === 206 ? cr?.size : Number(res.headers.get("content-length"));
        const meta = metaFromResponse(res.headers, size);
        if (!meta || (res.status === 206 && cr?.range?.start !== aligned.start)) {
          await res.body?.cancel();
          return { kind: "uncacheable" };
        }
        // A backend that ignored the Range sent the whole object: kept only when that is no more than was asked for (and budgeted).
        const whole = res.status === 200;
        const keep = meta.cacheable && meta.size > 0 && (!whole || meta.size <= aligned.end - aligned.start + 1);
        const blocks = keep ? { first: whole ? 0 : aligned.start / bs, last: whole ? this.blocks.lastBlock(versionOf(name, meta)) : Math.floor(cr!.range!.end / bs), body: res.body ?? [] } : undefined;
        adopted = this.announce(name, meta, res, release, blocks);
        return { kind: "found", meta };
      } finally {
        if (!adopted) release();
      }
    });
  }

  /** Discover an object's metadata with one HEAD. */
  withHead(name: ObjectName): Joined<HeadDiscovery> {
    return this.coalesced(this.byHead, name, () => this.head(name));
  }

  /**
   * Discover with the object's last `length` bytes, widened to whole blocks: a suffix GET
   * whose headers describe the object as a HEAD's would, and whose whole blocks are adopted.
   * Shares the HEAD's flight: a HEAD of a Parquet file is discovered this way, so the footer
   * its reader asks for next is already on its way. A 404 is recorded as a GET's (a HEAD
   * replays it without its body); any other refusal (416 for an empty object, 403 for an
   * archived one...) is asked again with a HEAD, so a HEAD gets the answer a HEAD gets.
   */
  withTail(name: ObjectName, length: number): Joined<HeadDiscovery> {
    return this.coalesced(this.byHead, name, async () => {
      const bs = this.blocks.blockSize;
      // One block more than asked: the block holding the tail's first byte starts within the answer.
      const suffix = length + bs;
      const release = await this.blocks.admit(suffix);
      let adopted = false;
      try {
        const res = await this.send("GET", name, new Headers({ range: `bytes=-${suffix}` }));
        if (res.status === 404) return await this.recorded(name, res);
        if (res.status !== 200 && res.status !== 206) {
          await res.body?.cancel();
          return await this.head(name);
        }
        const cr = parseContentRange(res.headers.get("content-range"));
        const meta = metaFromResponse(res.headers, res.status === 206 ? cr?.size : Number(res.headers.get("content-length")));
        if (!meta) {
          await res.body?.cancel();
          return { kind: "uncacheable" };
        }
        const start = res.status === 206 ? cr?.range?.start : 0;
        const end = res.status === 206 ? cr?.range?.end : meta.size - 1;
        // Adopted only when the answer is exactly the suffix asked for (a backend that ignored the Range sent more).
        let blocks: { first: number; last: number; body: Chunks } | undefined;
        if (meta.cacheable && meta.size > 0 && start === Math.max(0, meta.size - suffix) && end === meta.size - 1) {
          const first = Math.ceil(start / bs);
          blocks = { first, last: this.blocks.lastBlock(versionOf(name, meta)), body: bodySlice(res.body ?? [], first * bs - start) };
        }
        adopted = this.announce(name, meta, res, release, blocks);
        return { kind: "found", meta };
      } finally {
        if (!adopted) release();
      }
    });
  }

  /**
   * What a discovery's GET found: `blocks` of its body adopted (they keep the fill budget's
   * `release` until stored), else the body cancelled; then the metadata announced. Adopted
   * first, so a footer prefetch the announcement starts joins those blocks; synchronous, so a
   * reader joining the discovery finds them in flight. True when adopted.
   */
  private announce(name: ObjectName, meta: ObjectMeta, res: Response, release: () => void, blocks?: { first: number; last: number; body: Chunks }): boolean {
    if (blocks) this.blocks.adopt(versionOf(name, meta), blocks.first, blocks.last, blocks.body, release);
    else res.body?.cancel().catch(() => {});
    this.events.found(name, meta);
    return blocks !== undefined;
  }

  private async head(name: ObjectName): Promise<HeadDiscovery> {
    const res = await this.send("HEAD", name, new Headers());
    await res.body?.cancel();
    if (res.status !== 200) return this.record(name, res, new Uint8Array(0));
    const meta = metaFromResponse(res.headers, Number(res.headers.get("content-length")));
    if (!meta) return { kind: "uncacheable" };
    this.events.found(name, meta);
    return { kind: "found", meta };
  }

  private coalesced<D extends Discovery>(flight: SingleFlight<D>, name: ObjectName, discover: () => Promise<D>): Joined<D> {
    const call = flight.run(metaKey(name.bucket, name.key, name.versionId), discover);
    if (call.joined) this.stats.coalescedWaits++;
    return call;
  }

  private send(method: string, name: ObjectName, headers: Headers): Promise<Response> {
    this.stats.upstreamRequests++;
    return this.upstream.send({ method, bucket: name.bucket, key: name.key, query: name.versionId ? [["versionId", name.versionId]] : [], headers });
  }

  /** A non-success answer to a GET as replayable data; a huge error body is not recorded. */
  private async recorded(name: ObjectName, res: Response): Promise<HeadDiscovery> {
    const recorded = await recordAnswer(res);
    if (!recorded) return { kind: "uncacheable" };
    if (res.status === 404) this.events.missing(name, recorded);
    return { kind: "answer", recorded };
  }

  /** A HEAD's non-success answer as data; a 404 is also remembered. */
  private record(name: ObjectName, res: Response, body: Uint8Array): HeadDiscovery {
    const recorded: RecordedAnswer = { status: res.status, headers: objectHeaders(res.headers), body };
    if (res.status === 404) this.events.missing(name, recorded);
    return { kind: "answer", recorded };
  }
}

/** A backend answer as replayable data, or undefined (its body cancelled) when the body is too large to keep. */
export async function recordAnswer(res: Response): Promise<RecordedAnswer | undefined> {
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (!(declared <= MAX_RECORDED_BODY)) {
    await res.body?.cancel();
    return undefined;
  }
  const body = await res.bytes();
  return body.byteLength > MAX_RECORDED_BODY ? undefined : { status: res.status, headers: objectHeaders(res.headers), body };
}

/** The version last made from each metadata entry: the hit path asks for it on every request. */
const versions = new WeakMap<ObjectMeta, ObjectVersion>();

export function versionOf(name: ObjectName, meta: ObjectMeta): ObjectVersion {
  const known = versions.get(meta);
  if (known && known.bucket === name.bucket && known.key === name.key && known.versionId === name.versionId) return known;
  const version = { bucket: name.bucket, key: name.key, versionId: name.versionId, etag: meta.etag, size: meta.size };
  versions.set(meta, version);
  return version;
}

/** The headers of an answer that describe the object (or error), without the per-response ones. */
export function objectHeaders(headers: Headers): Array<[string, string]> {
  const kept: Array<[string, string]> = [];
  headers.forEach((v, k) => {
    if (!PER_RESPONSE.has(k)) kept.push([k, v]);
  });
  return kept;
}

/** Object metadata from a GET/HEAD answer; undefined when it lacks an ETag or size. */
export function metaFromResponse(headers: Headers, size: number | undefined): ObjectMeta | undefined {
  const etag = headers.get("etag");
  if (!etag || size === undefined || !Number.isSafeInteger(size) || size < 0) return undefined;
  return { size, etag, lastModified: headers.get("last-modified") ?? undefined, headers: objectHeaders(headers).filter(([k]) => !k.startsWith("x-amz-checksum-")), cacheable: backendAllowsCaching(headers) };
}
