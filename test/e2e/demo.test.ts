/**
 * `bun run demo` as a newcomer meets it: with --once it prints the direct/cold/warm table and
 * exits 0; left running, SIGTERM (even twice at once, as a process group gets it under
 * `bun run`) removes its temp directory and exits 0.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DEMO = join(import.meta.dir, "../../scripts/demo.ts");
// The demo's own temp directory is made in here, so the test can see it go.
const TMP = mkdtempSync(join(tmpdir(), "s3proxy-demo-test-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function spawnDemo(args: string[]) {
  return Bun.spawn([process.execPath, DEMO, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", TMPDIR: TMP, PORT: "0", AWS_EC2_METADATA_DISABLED: "true", NO_COLOR: "1" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

describe("bun scripts/demo.ts", () => {
  test("--once: the direct/cold/warm table with speedups and backend counts, matching results, client settings, exit 0", async () => {
    const proc = spawnDemo(["--once"]);
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect([code, stderr.includes("rror") ? stderr : ""]).toEqual([0, ""]);
    expect(stdout).toContain("query results match: every run equals the same query on the local file");
    const row = (label: string) => stdout.split("\n").find((l) => l.includes(label));
    const cells = /(\d[\d,]*) ms\s+(\d+\.\d\d)×\s+(\d[\d,]*)\s+(\d+(?:\.\d)?) (B|KiB|MiB)$/;
    for (const label of ["direct to the backend", "through s3proxy, cold", "through s3proxy, warm"]) expect(row(label), label).toMatch(cells);
    expect(row("direct to the backend")).toContain("1.00×");
    // Warm, every byte is answered by the proxy's cache.
    expect(cells.exec(row("through s3proxy, warm")!)!.slice(3)).toEqual(["0", "0", "B"]);
    // The access log stays out of the way without --verbose, and numbers are written for people.
    expect(stderr).not.toContain("GET /demo");
    expect(stdout).toContain("61,032,730.00");
    expect(stdout).not.toMatch(/\de\d/);
    expect(stdout).not.toContain("is running at");
    expect(stdout).toMatch(/ENDPOINT '127\.0\.0\.1:\d+', URL_STYLE 'path', USE_SSL false/);
    expect(stdout).toContain("aws --endpoint-url http://127.0.0.1:");
    expect(stdout).toContain("boto3.client(");
    expect(readdirSync(TMP)).toEqual([]);
  }, 180_000);

  test("left running, a double SIGTERM removes the temp directory and exits 0", async () => {
    const proc = spawnDemo([]);
    let stdout = "";
    const { promise: running, resolve } = Promise.withResolvers<void>();
    // Keep reading both pipes to the end, so the demo never blocks on a full one.
    const read = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        stdout += decoder.decode(chunk, { stream: true });
        if (stdout.includes("s3proxy is running at")) resolve();
      }
    };
    const done = Promise.all([read(proc.stdout), read(proc.stderr)]);
    await Promise.race([running, proc.exited]);
    expect(stdout).toContain("s3proxy is running at http://127.0.0.1:");
    expect(readdirSync(TMP)).toHaveLength(1);
    proc.kill("SIGTERM");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    await done;
    expect(readdirSync(TMP)).toEqual([]);
  }, 180_000);
});
