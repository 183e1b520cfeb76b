import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { buildQueryString, decodeComponent, encodePath, encodeQueryComponent } from "../../src/s3/uri.ts";

/**
 * Any text, weighted towards the characters that matter here: ASCII (unreserved, reserved,
 * `!'()*`, controls) and code points of every UTF-8 length. (fast-check's "binary" unit
 * takes seconds to build its table on first use.)
 */
const anyText = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
    fc
      .integer({ min: 0x80, max: 0x10ffff })
      .filter((c) => c < 0xd800 || c > 0xdfff)
      .map((c) => String.fromCodePoint(c)),
  ),
});

/** The SigV4 rule written out byte by byte (AWS "UriEncode"), as an independent oracle. */
function uriEncode(value: string, keepSlash: boolean): string {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

describe("encodePath", () => {
  test("keeps the unreserved characters and slashes as they are", () => {
    expect(encodePath("AZaz09-._~/a/b")).toBe("AZaz09-._~/a/b");
  });

  test("encodes !'()* which encodeURIComponent leaves alone", () => {
    expect(encodePath("!'()*")).toBe("%21%27%28%29%2A");
  });

  test("encodes space as %20, plus, percent, equals and ampersand", () => {
    expect(encodePath("a b+c%d=e&f")).toBe("a%20b%2Bc%25d%3De%26f");
  });

  test("encodes unicode as upper-case hex of its UTF-8 bytes", () => {
    expect(encodePath("é/日本")).toBe("%C3%A9/%E6%97%A5%E6%9C%AC");
    expect(encodePath("😀")).toBe("%F0%9F%98%80");
  });

  test("keeps consecutive and trailing slashes", () => {
    expect(encodePath("a//b/")).toBe("a//b/");
  });

  test("matches the byte-wise SigV4 rule for any string", () => {
    fc.assert(fc.property(anyText, (s) => encodePath(s) === uriEncode(s, true)));
  });
});

describe("encodeQueryComponent", () => {
  test("encodes a slash, unlike a path", () => {
    expect(encodeQueryComponent("a/b")).toBe("a%2Fb");
  });

  test("encodes space as %20, never +", () => {
    expect(encodeQueryComponent("a b")).toBe("a%20b");
  });

  test("matches the byte-wise SigV4 rule for any string", () => {
    fc.assert(fc.property(anyText, (s) => encodeQueryComponent(s) === uriEncode(s, false)));
  });
});

describe("buildQueryString", () => {
  test("keeps order and repeated names, and writes empty values as name=", () => {
    expect(
      buildQueryString([
        ["uploads", ""],
        ["b", "2"],
        ["b", "1"],
        ["prefix", "a b/c"],
      ]),
    ).toBe("uploads=&b=2&b=1&prefix=a%20b%2Fc");
  });

  test("is empty for no parameters", () => {
    expect(buildQueryString([])).toBe("");
  });
});

describe("decodeComponent", () => {
  test("reads + as a literal plus in paths and as a space in queries", () => {
    expect(decodeComponent("a+b", false)).toBe("a+b");
    expect(decodeComponent("a+b", true)).toBe("a b");
  });

  test("decodes percent-encoded UTF-8", () => {
    expect(decodeComponent("%E6%97%A5%2B%20", false)).toBe("日+ ");
  });

  test("returns undefined for malformed percent-encoding and invalid UTF-8", () => {
    expect(decodeComponent("%", false)).toBeUndefined();
    expect(decodeComponent("%zz", false)).toBeUndefined();
    expect(decodeComponent("%FF", false)).toBeUndefined();
  });

  test("round-trips whatever encodePath produced", () => {
    fc.assert(fc.property(anyText, (s) => decodeComponent(encodePath(s), false) === s));
  });
});
