import { describe, expect, test } from "bun:test";
import { ReadGrants } from "../../src/auth/read-grants.ts";

describe("per-identity read grants", () => {
  test("a grant lets only its own identity read only that object", () => {
    const grants = new ReadGrants(60_000, () => 0);
    grants.grant("alice@idp", "b", "k");
    expect(grants.allows("alice@idp", "b", "k")).toBe(true);
    expect(grants.allows("bob@idp", "b", "k")).toBe(false);
    expect(grants.allows("alice@idp", "b", "other")).toBe(false);
    expect(grants.allows("alice@idp", "c", "k")).toBe(false);
  });

  test("a grant lapses after the metadata TTL", () => {
    let now = 0;
    const grants = new ReadGrants(60_000, () => now);
    grants.grant("alice@idp", "b", "k");
    now = 59_999;
    expect(grants.allows("alice@idp", "b", "k")).toBe(true);
    now = 60_000;
    expect(grants.allows("alice@idp", "b", "k")).toBe(false);
  });

  test("with a zero TTL nothing is ever granted", () => {
    const grants = new ReadGrants(0, () => 0);
    grants.grant("alice@idp", "b", "k");
    expect(grants.allows("alice@idp", "b", "k")).toBe(false);
  });

  test("the table is bounded, dropping the oldest grant", () => {
    const grants = new ReadGrants(60_000, () => 0, 2);
    for (const k of ["k1", "k2", "k3"]) grants.grant("a", "b", k);
    expect(["k1", "k2", "k3"].map((k) => grants.allows("a", "b", k))).toEqual([false, true, true]);
  });
});
