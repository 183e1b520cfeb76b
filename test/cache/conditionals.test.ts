import { expect, test } from "bun:test";
import { etagMatches, evaluateConditions } from "../../src/cache/conditionals.ts";

const v = { etag: '"abc"', lastModified: "Wed, 25 Nov 2026 12:00:00 GMT" };
const h = (init: Record<string, string>) => new Headers(init);

test("etags compare without quotes or weak prefix, and * matches anything", () => {
  expect(etagMatches('"abc"', '"abc"')).toBe(true);
  expect(etagMatches("abc", '"abc"')).toBe(true);
  expect(etagMatches('W/"abc"', '"abc"')).toBe(true);
  expect(etagMatches('"x", "abc"', '"abc"')).toBe(true);
  expect(etagMatches("*", '"abc"')).toBe(true);
  expect(etagMatches('"abd"', '"abc"')).toBe(false);
});

test("If-Match failing is 412, holding proceeds", () => {
  expect(evaluateConditions(h({ "if-match": '"nope"' }), v)).toBe("precondition-failed");
  expect(evaluateConditions(h({ "if-match": '"abc"' }), v)).toBe("proceed");
});

test("If-None-Match matching is 304", () => {
  expect(evaluateConditions(h({ "if-none-match": '"abc"' }), v)).toBe("not-modified");
  expect(evaluateConditions(h({ "if-none-match": '"zzz"' }), v)).toBe("proceed");
});

test("If-Modified-Since and If-Unmodified-Since compare with Last-Modified", () => {
  expect(evaluateConditions(h({ "if-modified-since": "Wed, 25 Nov 2026 12:00:00 GMT" }), v)).toBe("not-modified");
  expect(evaluateConditions(h({ "if-modified-since": "Wed, 25 Nov 2026 11:00:00 GMT" }), v)).toBe("proceed");
  expect(evaluateConditions(h({ "if-unmodified-since": "Wed, 25 Nov 2026 11:00:00 GMT" }), v)).toBe("precondition-failed");
  expect(evaluateConditions(h({ "if-unmodified-since": "Wed, 25 Nov 2026 13:00:00 GMT" }), v)).toBe("proceed");
});

test("a holding If-Match overrides a failing If-Unmodified-Since, and If-None-Match overrides If-Modified-Since", () => {
  expect(evaluateConditions(h({ "if-match": '"abc"', "if-unmodified-since": "Wed, 25 Nov 2026 11:00:00 GMT" }), v)).toBe("proceed");
  expect(evaluateConditions(h({ "if-none-match": '"zzz"', "if-modified-since": "Wed, 25 Nov 2026 13:00:00 GMT" }), v)).toBe("proceed");
});
