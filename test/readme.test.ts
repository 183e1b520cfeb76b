/**
 * The README stays true: its options table is the one --help prints, and the commands,
 * scripts, flags and files it names exist (and the start command works as written).
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { Glob } from "bun";
import { README, withOptionsTable } from "../scripts/readme.ts";
import { OPTIONS } from "../src/options.ts";
import { MAIN } from "./support/spawn.ts";

const ROOT = join(import.meta.dir, "..");
const readme = await Bun.file(README).text();
const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { scripts: Record<string, string> };
/** The shell blocks: what a reader copies and runs. */
const shellLines = [...readme.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)]
  .flatMap((m) => m[1]!.split("\n"))
  .map((l) => l.replace(/\s+#.*$/, "").trim())
  .filter(Boolean);

/** Flags of other tools the README quotes, and where they come from; each must still be quoted. */
const OTHER_TOOLS: Record<string, string> = {
  "--once": "scripts/demo.ts",
  "--verbose": "scripts/demo.ts",
  "--smoke": "bun run bench",
  "--out": "bun run bench",
  "--seed": "bun run fuzz",
  "--ops": "bun run fuzz",
  "--timeout": "bun test",
  "--platform": "docker buildx",
  "--rm": "docker run",
  "--now": "systemctl",
  "--check": "sha256sum",
  "--ignore-missing": "sha256sum",
  "--contents": "dpkg-deb",
  "--field": "dpkg-deb",
  "--purge": "dpkg",
  "--endpoint-url": "aws",
  "--deploy-hook": "certbot",
  "--cacert": "curl",
  "--ca-bundle": "aws",
  "--tls-port": "not an option: the README says why there is none",
  "--checksum-algorithm": "aws",
  "--save": "redis-server",
  "--appendonly": "redis-server",
  "--maxmemory": "redis-server",
  "--maxmemory-policy": "redis-server",
  "--minify": "bun build",
  "--bytecode": "bun build",
  "--sourcemap": "bun build",
  "--format": "bun build",
  "--define": "bun build",
  "--no-compile-autoload-dotenv": "bun build",
  "--no-compile-autoload-bunfig": "bun build",
};

describe("README", () => {
  test("starts with the two commands that do everything on a fresh machine", () => {
    const first = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(first).toContain("bash scripts/setup.sh && bun run demo");
    expect(first).toContain("bash scripts/setup.sh && bun run test");
  });

  test("carries exactly the options table of src/options.ts (run `bun scripts/readme.ts` to refresh it)", () => {
    expect(readme).toBe(withOptionsTable(readme));
  });

  test("every `bun run X` names a package.json script", () => {
    const named = new Set([...readme.matchAll(/bun run ([a-z][\w-]*)/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(3);
    for (const script of named) expect(pkg.scripts[script], `bun run ${script}`).toBeDefined();
  });

  test("every flag it names is an s3proxy option, or a flag of the tool it quotes", () => {
    const ours = new Set(["--help", "--version", "--url", ...OPTIONS.flatMap((o) => [`--${o.flag}`, ...(o.type === "boolean" ? [`--no-${o.flag}`] : [])])]);
    const named = new Set([...readme.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]));
    for (const flag of named) expect(ours.has(flag) || flag in OTHER_TOOLS, flag).toBe(true);
    for (const flag of Object.keys(OTHER_TOOLS)) expect(named.has(flag), `${flag} is no longer quoted: drop it from OTHER_TOOLS`).toBe(true);
    for (const flag of ["--once", "--verbose"]) expect(Bun.file(join(ROOT, "scripts/demo.ts")).text()).resolves.toContain(`"${flag}"`);
  });

  test("every file path it names exists", () => {
    // Paths in backticks or links; a bare name beside a path in the same cell is in that path's
    // folder. Paths outside the repository's own folders (dist/, a tap's Formula/) are built or elsewhere.
    const own = /^(scripts|src|test|deploy|docs|packaging|bench)\/|^[\w-]+\.md$/;
    const missing: string[] = [];
    for (const line of readme.split("\n")) {
      let folder: string | undefined;
      for (const m of line.matchAll(/`([\w./*-]+\.(?:ts|md|sh|toml|json|ya?ml|py|rb))`|\]\(([\w./-]+\.md)\)/g)) {
        const path = m[1] ?? m[2]!;
        if (path.includes("/")) {
          // Only a repository path sets the folder: `/_s3proxy/status.json` is a URL.
          if (!own.test(path)) continue;
          folder = dirname(path);
        } else if (folder) {
          if (!existsSync(join(ROOT, folder, path))) missing.push(`${folder}/${path}`);
          continue;
        } else if (!own.test(path)) continue;
        const found = path.includes("*") ? [...new Glob(path).scanSync(ROOT)].length > 0 : existsSync(join(ROOT, path));
        if (!found) missing.push(path);
      }
    }
    expect([...new Set(missing)]).toEqual([]);
  });

  test("the test timeout it states is the one package.json passes", () => {
    const timeout = /--timeout (\d+)/.exec(pkg.scripts.test!)![1];
    for (const m of readme.matchAll(/--timeout (\d+)/g)) expect(m[1]).toBe(timeout!);
  });

  test("each `bun run start` command starts the proxy as written (its port made free)", async () => {
    const commands = shellLines.filter((l) => /^(\w+=\S+ )*bun run start -- /.test(l));
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const words = command.split(/\s+/);
      const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: "/nonexistent", AWS_EC2_METADATA_DISABLED: "true", NO_COLOR: "1" };
      while (/^\w+=/.test(words[0]!)) {
        const [name, value] = words.shift()!.split("=");
        env[name!] = value!;
      }
      const args = words.slice(words.indexOf("--") + 1);
      const port = args.indexOf("--port");
      if (port >= 0) args[port + 1] = "0";
      else args.push("--port", "0");
      const proc = Bun.spawn([process.execPath, MAIN, ...args], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      let output = "";
      const decoder = new TextDecoder();
      for await (const chunk of proc.stderr) {
        output += decoder.decode(chunk, { stream: true });
        if (output.includes("listening on")) break;
      }
      proc.kill();
      await proc.exited;
      expect(output, command).toContain("listening on");
    }
  });
});
