/**
 * SigV4 signing keys: HMAC chain over date, region, service and `aws4_request`, starting
 * from `AWS4` + secret. Deriving one costs four HMACs, so keys are cached per (secret,
 * date, region, service); the cache is bounded and drops its oldest entries first.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export function hmac(key: string | Uint8Array, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
}

/** Compare two hex signatures without leaking where they differ. */
export function signaturesEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(given, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

export class SigningKeyCache {
  private readonly keys = new Map<string, Buffer>();
  constructor(private readonly maxEntries = 1024) {}

  get(secret: string, date: string, region: string, service: string): Buffer {
    const id = `${date}\n${region}\n${service}\n${secret}`;
    let key = this.keys.get(id);
    if (key === undefined) {
      key = deriveSigningKey(secret, date, region, service);
      if (this.keys.size >= this.maxEntries) this.keys.delete(this.keys.keys().next().value!);
      this.keys.set(id, key);
    }
    return key;
  }

  get size(): number {
    return this.keys.size;
  }
}
