import { describe, expect, test } from "bun:test";
import { defaultHealthcheckUrl } from "../src/healthcheck.ts";
import { OPTIONS } from "../src/options.ts";
import { optionsMarkdown, renderHelp, wantColor, wrap } from "../src/usage.ts";

describe("colour", () => {
  test("only on a terminal, unless NO_COLOR or FORCE_COLOR says otherwise (NO_COLOR wins)", () => {
    expect([wantColor(true, {}), wantColor(false, {})]).toEqual([true, false]);
    expect(wantColor(true, { NO_COLOR: "1" })).toBe(false);
    expect(wantColor(false, { FORCE_COLOR: "1" })).toBe(true);
    expect(wantColor(true, { FORCE_COLOR: "0" })).toBe(false);
    expect(wantColor(false, { FORCE_COLOR: "1", NO_COLOR: "1" })).toBe(false);
    expect(wantColor(true, { NO_COLOR: "" })).toBe(true); // set but empty: ignored, as no-color.org says
  });
});

describe("help", () => {
  test("words wrap at spaces within the width; a longer word stands alone", () => {
    expect(wrap("aa bb cc dd", 5)).toEqual(["aa bb", "cc dd"]);
    expect(wrap("a https://long.example/url b", 6)).toEqual(["a", "https://long.example/url", "b"]);
  });

  test("fits the width it is given, 60 to 200 columns", () => {
    for (const width of [60, 80, 120, 200]) {
      for (const line of renderHelp("1.0.0", { width, color: false }).split("\n")) expect(line.length, line).toBeLessThanOrEqual(width);
    }
  });
});

describe("the README's options table", () => {
  test("has a header and one row per option, and no cell split by a stray |", () => {
    const rows = optionsMarkdown().split("\n");
    expect(rows).toHaveLength(2 + OPTIONS.length);
    for (const row of rows) expect(row.replaceAll("\\|", "").split("|")).toHaveLength(6);
  });
});

test("healthcheck probes the port the ops routes are on: METRICS_PORT, else PORT, else 3000", () => {
  expect(defaultHealthcheckUrl({})).toBe("http://127.0.0.1:3000/_s3proxy/health/ready");
  expect(defaultHealthcheckUrl({ PORT: "8080" })).toBe("http://127.0.0.1:8080/_s3proxy/health/ready");
  expect(defaultHealthcheckUrl({ PORT: "8080", METRICS_PORT: "9100" })).toBe("http://127.0.0.1:9100/_s3proxy/health/ready");
});
