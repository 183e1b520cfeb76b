import { expect, test } from "bun:test";
import { describeLink, parseRate, relayFlags } from "../../scripts/bench/link.ts";

const MiB = 1024 * 1024;

test("the link's shape becomes the relay's flags, and an absent cap no flag", () => {
  expect(relayFlags({ firstByteMs: 25, connectionBandwidth: 80 * MiB })).toEqual(["--delay", "25", "--connection-bandwidth", String(80 * MiB)]);
  expect(relayFlags({ firstByteMs: 30, connectionBandwidth: 80 * MiB, bandwidth: 1024 * MiB })).toContain("--bandwidth");
  expect(relayFlags({ firstByteMs: 20 })).toEqual(["--delay", "20"]);
});

test("the report names every part of the link, uncapped included", () => {
  expect(describeLink({ firstByteMs: 25, connectionBandwidth: 80 * MiB })).toBe("first byte +25 ms, 80 MiB/s per connection, aggregate uncapped");
});

test("rates are bytes per second, with binary units", () => {
  expect(parseRate("80MiB")).toBe(80 * MiB);
  expect(parseRate("1.5KiB")).toBe(1536);
  expect(parseRate("1000")).toBe(1000);
  expect(() => parseRate("80MB")).toThrow();
});
