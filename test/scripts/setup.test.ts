/**
 * scripts/setup.sh speaks one line per step that installs something and is silent when all
 * is there. Run in a scratch copy of the project with stand-ins for npm, apt-get, dpkg-query
 * and bun on PATH, so nothing is installed for real.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const scratch = mkdtempSync(join(tmpdir(), "s3proxy-setup-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A project copy whose tools record their calls in `calls`; `installed` is what dpkg-query reports, `failing` a tool that fails. */
async function runSetup(opts: { installed: "all" | "none"; bun: boolean; fresh: boolean; failing?: string }) {
  const root = mkdtempSync(join(scratch, "p-"));
  const bin = join(root, "bin");
  mkdirSync(join(root, "scripts"));
  mkdirSync(bin);
  cpSync(join(import.meta.dir, "../../scripts/setup.sh"), join(root, "scripts/setup.sh"));
  writeFileSync(join(root, "package.json"), "{}");
  writeFileSync(join(root, "bun.lock"), "{}");
  mkdirSync(join(root, "node_modules"));
  if (opts.fresh) utimesSync(join(root, "node_modules"), new Date(0), new Date(0));
  const calls = join(root, "calls");
  const tool = (name: string, body = "") => {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${calls}\n${body}\n${opts.failing === name ? 'echo "E: no network" ; exit 100' : ""}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  // Installing bun puts a bun on PATH, as `npm install -g bun` does.
  tool("npm", `printf '#!/bin/sh\\necho "bun $*" >> ${calls}\\n' > ${bin}/bun; chmod +x ${bin}/bun`);
  tool("apt-get");
  tool("dpkg-query", opts.installed === "all" ? "printf 'install ok installed'" : "exit 1");
  if (opts.bun) tool("bun");
  for (const name of ["bash", "grep", "mktemp", "rm", "cat", "touch", "dirname", "printf", "chmod"]) {
    const real = Bun.which(name);
    if (real) {
      writeFileSync(join(bin, name), `#!/bin/sh\nexec ${real} "$@"\n`);
      chmodSync(join(bin, name), 0o755);
    }
  }
  const proc = Bun.spawn([Bun.which("bash")!, join(root, "scripts/setup.sh")], { env: { PATH: bin }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const recorded = (await Bun.file(calls).exists()) ? (await Bun.file(calls).text()).trim().split("\n") : [];
  return { stdout, stderr, code, calls: recorded };
}

describe("scripts/setup.sh", () => {
  test("all there: says nothing, only checks the packages", async () => {
    const r = await runSetup({ installed: "all", bun: true, fresh: false });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "", ""]);
    expect(r.calls.filter((c) => !c.startsWith("dpkg-query"))).toEqual(["bun install --frozen-lockfile"]);
  });

  test("a fresh machine: one line per step, naming what it installs and why", async () => {
    const r = await runSetup({ installed: "none", bun: false, fresh: true });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toStartWith("setup: installing bun from npm");
    expect(lines[1]).toStartWith("setup: apt-get update");
    expect(lines[2]).toStartWith("setup: installing awscli python3-boto3 s3cmd chromium openssl curl redis-server from Debian (");
    expect(lines[3]).toStartWith("setup: installing the project's packages");
    expect(r.calls).toContain("npm install -g bun");
  });

  test("a failing step shows its output and exits 1", async () => {
    const r = await runSetup({ installed: "none", bun: true, fresh: false, failing: "apt-get" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("E: no network");
    expect(r.stderr).toContain("setup: failed: apt-get update -qq");
  });
});
