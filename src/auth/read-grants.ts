/**
 * Per-identity read grants for the cache in `web-identity` mode. There, what a client may
 * read is decided by the backend for that client's own temporary credentials, so bytes
 * cached for one identity must not be served to another on trust. The rule: a cached
 * object is served to an identity only while that identity holds a grant for it, and a
 * grant is recorded only when the backend itself answered that identity's GET or HEAD of
 * the object with success (2xx or 304). Grants last as long as cached metadata is trusted
 * (--meta-ttl); without one, the cache first asks the backend (a HEAD signed with the
 * identity's credentials) and records the grant on success.
 * In the other modes the proxy's own backend key authorises every read, so the cache is
 * shared and bucket allow-lists are enforced before any lookup.
 */

export class ReadGrants {
  private readonly grants = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 100_000,
  ) {}

  private static id(identity: string, bucket: string, key: string): string {
    return `${identity}\n${bucket}\n${key}`;
  }

  /** The backend let `identity` read bucket/key just now. */
  grant(identity: string, bucket: string, key: string): void {
    if (this.ttlMs <= 0) return;
    const id = ReadGrants.id(identity, bucket, key);
    this.grants.delete(id); // re-insert so the oldest grant is always first
    if (this.grants.size >= this.maxEntries) this.grants.delete(this.grants.keys().next().value!);
    this.grants.set(id, this.now() + this.ttlMs);
  }

  /** Whether a cached copy of bucket/key may be served to `identity` without asking the backend. */
  allows(identity: string, bucket: string, key: string): boolean {
    const id = ReadGrants.id(identity, bucket, key);
    const until = this.grants.get(id);
    if (until === undefined) return false;
    if (until <= this.now()) {
      this.grants.delete(id);
      return false;
    }
    return true;
  }
}
