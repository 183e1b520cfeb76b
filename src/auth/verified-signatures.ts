/**
 * Header signatures already verified, so a request repeated byte for byte (a retrying
 * client, an engine re-reading one range, a load generator) skips the canonical request
 * and the HMAC chain. Only a request identical in every input of the verification hits:
 * the same Authorization header (credential, signed header names, signature), method and
 * URL (host, raw path, raw query), and the same values of every signed header and of the
 * headers the claim is read from. Raw inputs are compared, which is stricter than
 * comparing canonical forms: two requests that canonicalise alike but differ in bytes
 * simply miss. An entry answers only inside its request's time window (X-Amz-Date ±
 * 15 minutes, as verification enforces) and is dropped once found outside it.
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
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly maxEntries = 1024) {}

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

  /** Keep a header-signed request's verification. Presigned ones are not kept: their window is their own expiry, not the ±15 minutes `find` checks. */
  remember(req: SignedRequest, verified: VerifiedSignature, now: number): void {
    const authorization = req.headers.get("authorization");
    if (authorization === null || verified.claim.presigned) return;
    this.dropExpired(now);
    const names = [...new Set([...verified.claim.signedHeaders, ...CLAIM_HEADERS])];
    const entry: Entry = { ...verified, method: req.method, url: req.url, names, values: names.map((n) => req.headers.get(n)) };
    if (!this.entries.has(authorization) && this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(authorization, entry);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Entries arrive in about the order of their dates, so the oldest are the first to expire:
   * drop those that have, up to the first live one. One dated far ahead can hold expired ones
   * behind it until they are looked up or pushed out, but never make them answer.
   */
  private dropExpired(now: number): void {
    for (const [authorization, entry] of this.entries) {
      if (live(entry, now)) return;
      this.entries.delete(authorization);
    }
  }
}

/** Inside the request's window, X-Amz-Date ± 15 minutes, as checkTime enforces for header auth. */
function live(entry: Entry, now: number): boolean {
  return Math.abs(entry.claim.time - now) <= MAX_SKEW_MS;
}
