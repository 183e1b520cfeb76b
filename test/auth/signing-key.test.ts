import { describe, expect, test } from "bun:test";
import { deriveSigningKey, signaturesEqual, SigningKeyCache } from "../../src/auth/signing-key.ts";

describe("signing keys", () => {
  test("derivation matches AWS's documented example (iam, us-east-1, 20120215)", () => {
    expect(deriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam").toString("hex")).toBe("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  });

  test("the cache derives once per (secret, date, region, service) and tells them apart", () => {
    const cache = new SigningKeyCache();
    const a = cache.get("s", "20261125", "us-east-1", "s3");
    expect(cache.get("s", "20261125", "us-east-1", "s3")).toBe(a);
    expect(cache.get("s", "20261126", "us-east-1", "s3")).not.toEqual(a);
    expect(cache.get("t", "20261125", "us-east-1", "s3")).not.toEqual(a);
    expect(cache.get("s", "20261125", "eu-west-1", "s3")).not.toEqual(a);
    expect(cache.size).toBe(4);
  });

  test("the cache is bounded", () => {
    const cache = new SigningKeyCache(2);
    for (const d of ["20261101", "20261102", "20261103"]) cache.get("s", d, "r", "s3");
    expect(cache.size).toBe(2);
  });

  test("signature comparison rejects any difference, including length", () => {
    expect(signaturesEqual("ab".repeat(32), "ab".repeat(32))).toBe(true);
    expect(signaturesEqual("ab".repeat(32), "ab".repeat(31) + "ac")).toBe(false);
    expect(signaturesEqual("ab".repeat(32), "ab")).toBe(false);
  });
});
