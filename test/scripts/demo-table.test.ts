import { describe, expect, test } from "bun:test";
import { comparisonTable, formatMs, formatNumber, renderTable } from "../../scripts/demo-table.ts";

describe("demo tables", () => {
  test("columns are padded to their widest cell and the header is underlined", () => {
    expect(
      renderTable(
        [
          ["a", "n"],
          ["long", "1"],
          ["b", "100"],
        ],
        ["left", "right"],
      ).split("\n"),
    ).toEqual(["  a        n", "  ────   ───", "  long     1", "  b      100"]);
  });

  test("the comparison states time, speedup against the first (direct) run, requests and bytes", () => {
    const table = comparisonTable([
      { label: "direct", ms: 300, backendRequests: 20, backendBytes: 31 * 1024 ** 2 },
      { label: "warm", ms: 100, backendRequests: 0, backendBytes: 0 },
    ]);
    expect(table.split("\n").slice(2)).toEqual(["  direct   300 ms       1.00×                 20          31 MiB", "  warm     100 ms       3.00×                  0             0 B"]);
  });

  test("numbers never use e-notation", () => {
    expect(formatNumber(61_032_730, 2)).toBe("61,032,730.00");
    expect(formatNumber(1234567)).toBe("1,234,567");
    expect(formatMs(12_345)).toBe("12.3 s");
    expect(formatMs(1234.4)).toBe("1,234 ms");
  });
});
