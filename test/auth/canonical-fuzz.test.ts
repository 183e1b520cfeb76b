/**
 * The SigV4 canonicaliser fuzzed with generated keys and queries: clients disagree on what
 * they leave unencoded, and every spelling of the same request must canonicalise alike.
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { canonicalQuery, canonicalUri } from "../../src/auth/canonical.ts";
import { encodePath } from "../../src/s3/uri.ts";

/** Key segments from the whole of Unicode (no lone surrogates: keys are UTF-8). */
const segment = fc.string({ unit: "grapheme", maxLength: 12 });
const key = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"));

/** Every byte escaped, even unreserved ones, with upper- or lower-case hex; slashes kept. */
function everyByte(s: string, lower: boolean): string {
  return [...new TextEncoder().encode(s)]
    .map((b) => {
      if (b === 0x2f) return "/";
      const hex = b.toString(16).padStart(2, "0");
      return "%" + (lower ? hex : hex.toUpperCase());
    })
    .join("");
}

const spellings = (k: string) => [encodePath(k), k.split("/").map(encodeURIComponent).join("/"), everyByte(k, false), everyByte(k, true)];

test("every client spelling of a key canonicalises to the same URI", () => {
  fc.assert(
    fc.property(key, (k) => {
      const [first, ...rest] = spellings(k).map((p) => canonicalUri(`/bucket/${p}`));
      for (const other of rest) expect(other).toBe(first!);
    }),
    { numRuns: 2000 },
  );
});

test("a plain path (unreserved characters and slashes) is its own canonical URI, as every escaped spelling of it agrees", () => {
  const plain = fc.stringMatching(/^[A-Za-z0-9\-._~/]{1,24}$/);
  fc.assert(
    fc.property(plain, (k) => {
      const path = `/bucket/${k}`;
      expect(canonicalUri(path)).toBe(path);
      expect(canonicalUri(`/bucket/${everyByte(k, true)}`)).toBe(path);
    }),
    { numRuns: 2000 },
  );
});

test("the canonical URI is already canonical, and only unreserved characters, slashes and upper-case escapes", () => {
  fc.assert(
    fc.property(key, (k) => {
      const c = canonicalUri(`/bucket/${encodePath(k)}`);
      expect(canonicalUri(c)).toBe(c);
      expect(/^[A-Za-z0-9\-._~/]*(%[0-9A-F]{2}[A-Za-z0-9\-._~/]*)*$/.test(c)).toBe(true);
    }),
    { numRuns: 2000 },
  );
});

test("the canonical query does not depend on parameter order, and encodes names and values alike", () => {
  const param = fc.tuple(fc.string({ unit: "grapheme", maxLength: 8 }), fc.string({ unit: "grapheme", maxLength: 8 }));
  fc.assert(
    fc.property(fc.array(param, { maxLength: 6 }), fc.nat(), (params, seed) => {
      const shuffled = [...params].sort((a, b) => (((a[0] + a[1]).length * 31 + seed) % 7) - (((b[0] + b[1]).length * 31 + seed) % 7));
      const c = canonicalQuery(params, false);
      expect(canonicalQuery(shuffled, false)).toBe(c);
      expect(/^[A-Za-z0-9\-._~%=&]*$/.test(c)).toBe(true);
    }),
    { numRuns: 2000 },
  );
});
