/** Counters the cache keeps, read by metrics and tests. */
export class CacheStats {
  hits = 0;
  misses = 0;
  partialHits = 0;
  bytesFromCache = 0;
  bytesFromUpstream = 0;
  bytesFromTiers = 0;
  coalescedWaits = 0;
  prefetches = 0;
  staleServed = 0;
  hedges = 0;
  upstreamRequests = 0;
  /** Reads asked again because the backend's answer broke off mid-body before the client was sent anything. */
  retriedReads = 0;
}
