/** Smoke test of `bun run demo`: the whole demo runs once and its Polars query results check out. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const DEMO = join(import.meta.dir, "../../scripts/demo.ts");

describe("bun scripts/demo.ts --once", () => {
  test("uploads the sample, runs the Polars query through the proxy twice with matching results, prints client settings and exits 0", async () => {
    const proc = Bun.spawn([process.execPath, DEMO, "--once"], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", PORT: "0", AWS_EC2_METADATA_DISABLED: "true", NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect([code, stderr.includes("rror") ? stderr : ""]).toEqual([0, ""]);
    expect(stdout).toContain("query results match: both runs through the proxy equal the query on the local file");
    // Progress goes through the logger, to stderr; results and instructions to stdout.
    expect(stderr).toMatch(/first run: \d+ ms/);
    expect(stderr).toMatch(/second run: \d+ ms/);
    for (const category of ["books", "games", "garden", "music", "outdoor", "tools", "toys", "video"]) expect(stdout).toContain(`│ ${category}`);
    expect(stdout).toMatch(/ENDPOINT '127\.0\.0\.1:\d+', URL_STYLE 'path', USE_SSL false/);
    expect(stdout).toContain("aws --endpoint-url http://127.0.0.1:");
    expect(stdout).toContain("boto3.client(");
  }, 180_000);
});
