/**
 * Header signatures already verified, so a request repeated byte for byte (a retrying
 * client, an engine re-reading one range, a load generator) skips the canonical request
 * and the HMAC chain from its third sighting on (see `remember`). Only a request identical
 * in every input of the verification hits: the same Authorization header (credential,
 * signed header names, signature), method and URL (host, raw path, raw query), and the
 * same values of every signed header and of the headers the claim is read from. Raw inputs
 * are compared, which is stricter than comparing canonical forms: two requests that
 * canonicalise alike but differ in bytes simply miss. An entry answers only inside its
 * request's time window (X-Amz-Date ± 15 minutes, as verification enforces); one found
 * outside it is dropped, the others are pushed out by newer ones.
 *
 * The cache is bounded and drops its oldest entries first. Its keys are Authorization
 * headers: no secret (a signature proves knowledge of one without revealing it); entries
 * hold the secret they were verified with only so a hit can be refused once the key's
 * secret has changed (see authenticate.ts).
 */
import { MAX_SKEW_MS, type SigV4Claim } from "./sigv4-verify.ts";

export interface VerifiedSignature {
  claim: SigV4Claim;
  /** The secret the signature was verified with. */
  secret: string;
  signingKey: Uint8Array;
}

interface Entry extends VerifiedSignature {
  method: string;
  url: string;
  /** Headers compared on a hit, and the values (or absence) they had when verified. */
  names: readonly string[];
  values: readonly (string | null)[];
}

export type SignedRequest = Pick<Request, "method" | "url" | "headers">;

/** Read by readClaim whether signed or not: the date and the payload hash claim. */
const CLAIM_HEADERS = ["x-amz-date", "date", "x-amz-content-sha256"];

export class VerifiedSignatureCache {
  /** Undefined: the header was seen verified once, and is kept when seen again. */
  private readonly entries = new Map<string, Entry | undefined>();
  /**
   * Keys in the order they were kept; the slot at `next` holds the oldest once all are used.
   * Evicting through this ring, not by deleting the Map's first key: a Map whose oldest key is
   * deleted again and again has its first live key behind ever more tombstones, and finding
   * it cost about a microsecond on every request that was not a repeat.
   */
  private readonly slots: (string | undefined)[];
  private next = 0;

  constructor(maxEntries = 1024) {
    this.slots = new Array<string | undefined>(maxEntries).fill(undefined);
  }

  /** The verification of an identical earlier request, if its time window holds at `now`. */
  find(req: SignedRequest, now: number): VerifiedSignature | undefined {
    const authorization = req.headers.get("authorization");
    if (authorization === null) return undefined;
    const entry = this.entries.get(authorization);
    if (entry === undefined) return undefined;
    if (!live(entry, now)) {
      this.entries.delete(authorization);
      return undefined;
    }
    if (entry.method !== req.method || entry.url !== req.url) return undefined;
    for (let i = 0; i < entry.names.length; i++) {
      if (req.headers.get(entry.names[i]!) !== entry.values[i]) return undefined;
    }
    return entry;
  }

  /**
   * Keep a header-signed request's verification once its Authorization header is seen
   * verified a second time; the first time only the header is noted. Most clients sign every
   * request afresh, and keeping a whole entry per request made the collector's work grow by
   * more than the verification itself costs; a repeat shows itself by the second sighting.
   * Presigned requests are not kept: their window is their own expiry, not the ±15 minutes
   * `find` checks.
   */
  remember(req: SignedRequest, verified: VerifiedSignature): void {
    const authorization = req.headers.get("authorization");
    if (authorization === null || verified.claim.presigned) return;
    if (!this.entries.has(authorization)) {
      // A header dropped by `find` for its age and noted again sits in two slots; the first
      // to come round drops it early, which only costs a miss.
      const oldest = this.slots[this.next];
      if (oldest !== undefined) this.entries.delete(oldest);
      this.slots[this.next] = authorization;
      this.next = (this.next + 1) % this.slots.length;
      this.entries.set(authorization, undefined);
      return;
    }
    const names = coveredHeaders(verified.claim.signedHeaders);
    const values = names.map((n) => req.headers.get(n));
    this.entries.set(authorization, { claim: verified.claim, secret: verified.secret, signingKey: verified.signingKey, method: req.method, url: req.url, names, values });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The signed headers and those the claim is read from. */
function coveredHeaders(signed: readonly string[]): string[] {
  const names = signed.slice();
  for (const name of CLAIM_HEADERS) if (!signed.includes(name)) names.push(name);
  return names;
}

/** Inside the request's window, X-Amz-Date ± 15 minutes, as checkTime enforces for header auth. */
function live(entry: Entry, now: number): boolean {
  return Math.abs(entry.claim.time - now) <= MAX_SKEW_MS;
}
