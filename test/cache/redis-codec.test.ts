import { describe, expect, test } from "bun:test";
import { decodeMeta, encodeInvalidation, encodeMeta, invalidationChannel, parseInvalidation, redisKey } from "../../src/cache/redis-codec.ts";
import { parseClusterSeeds } from "../../src/cache/redis-cluster.ts";

const stored = { meta: { size: 1, etag: '"e"', headers: [] as Array<[string, string]>, cacheable: true }, learnedAt: 5 };

describe("redis codec", () => {
  test("keys are per namespace and kind, with no hash tag whatever the cache key holds", () => {
    const k = redisKey("http://a/", "b", "bucket\u0000{tag}\u0000");
    expect(k).toMatch(/^s3proxy:b:[A-Za-z0-9_-]{43}$/);
    expect(redisKey("http://b/", "b", "bucket\u0000{tag}\u0000")).not.toBe(k);
    expect(redisKey("http://a/", "m", "bucket\u0000{tag}\u0000")).not.toBe(k);
    expect(invalidationChannel("http://a/")).not.toBe(invalidationChannel("http://b/"));
  });

  test("metadata decodes only for the id it was stored under", () => {
    expect(decodeMeta("id", encodeMeta("id", stored))).toEqual(stored);
    expect(decodeMeta("other", encodeMeta("id", stored))).toBe("corrupt");
    expect(decodeMeta("id", "{not json")).toBe("corrupt");
    expect(decodeMeta("id", "null")).toBe("corrupt");
  });

  test("an invalidation is heard from others, never from ourselves, and junk is ignored", () => {
    expect(parseInvalidation("me", encodeInvalidation("you", { id: "k" }))).toEqual({ id: "k" });
    expect(parseInvalidation("me", encodeInvalidation("you", { bucket: "b" }))).toEqual({ bucket: "b" });
    expect(parseInvalidation("me", encodeInvalidation("me", { id: "k" }))).toBeUndefined();
    for (const junk of ["", "null", "3", '{"origin":"x"}', '{"origin":"x","id":3}']) expect(parseInvalidation("me", junk)).toBeUndefined();
  });
});

describe("cluster seeds", () => {
  test("host:port lists, optionally all with a TLS scheme", () => {
    expect(parseClusterSeeds("10.0.0.1:6379, redis-b:7000")).toEqual({
      seeds: [
        { host: "10.0.0.1", port: 6379 },
        { host: "redis-b", port: 7000 },
      ],
      tls: false,
    });
    expect(parseClusterSeeds("rediss://a:6380,rediss://b:6380")).toEqual({
      seeds: [
        { host: "a", port: 6380 },
        { host: "b", port: 6380 },
      ],
      tls: true,
    });
    expect(parseClusterSeeds("[::1]:7000")).toEqual({ seeds: [{ host: "::1", port: 7000 }], tls: false });
  });

  test("malformed lists, mixed schemes and user info are refused", () => {
    for (const bad of ["", "a", "a:0", "a:70000", "a:6379,rediss://b:6379", "redis://user:pw@a:6379", "a:6379/0x"]) expect(parseClusterSeeds(bad)).toBeUndefined();
  });
});
