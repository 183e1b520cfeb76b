/**
 * The benchmark suite, run end to end at toy sizes so it cannot rot: every scenario must
 * start its peers, measure, and write its report section, chart and results. No figure is
 * judged here (timings on a shared machine prove nothing); the full run is `bun run bench`.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const out = mkdtempSync(join(tmpdir(), "bench-smoke-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const SCENARIOS = ["hit-throughput", "miss-overhead", "query", "pushdown", "signed-ranges", "coalesce", "memory", "load", "block-size", "fleet", "disk-hits"];

test("the smoke bench runs every scenario and writes BENCHMARKS.md, one SVG chart and one result file per scenario", async () => {
  const proc = Bun.spawn(["bun", join(import.meta.dir, "../../scripts/bench/index.ts"), "--smoke", "--out", out], { stdout: "pipe", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) console.error(stderr);
  expect(code).toBe(0);
  const report = readFileSync(join(out, "BENCHMARKS.md"), "utf8");
  expect(report).toContain("## Targets");
  for (const name of SCENARIOS) {
    expect(report).toContain(`(\`${name}\`)`);
    const result = JSON.parse(readFileSync(join(out, "bench", "results", `${name}.json`), "utf8"));
    expect(result.name).toBe(name);
    for (const chart of result.charts as { file: string }[]) {
      expect(report).toContain(`](bench/${chart.file})`);
      expect(readFileSync(join(out, "bench", chart.file), "utf8")).toStartWith("<svg");
    }
  }
  // The scenarios that need no Debian package always draw their chart.
  for (const name of ["miss-overhead", "query", "pushdown", "signed-ranges", "coalesce", "memory", "load", "block-size"]) expect(existsSync(join(out, "bench", `${name}.svg`))).toBe(true);
  // Wrong bytes are never acceptable, whatever the sizes.
  expect(report).not.toContain("Answers differing from the local files");
  expect(report).toMatch(/\| ours \| \d+ \(\d+–\d+\) \| [^|]+ \| [\d.]+ \| 0 \|/);
}, 180_000);
