/**
 * The release targets and the one `bun build --compile` invocation every release binary
 * (and the test suite's binary) is made with, so what is tested is what is shipped.
 */
import { $ } from "bun";
import { rmSync } from "node:fs";
import type { BinaryFormat } from "./release-verify.ts";
import { gitCommit } from "../src/version.ts";

export interface Target {
  /** Bun's compile target. */
  bun: string;
  /** Name used in archive names: `s3proxy-<version>-<name>.tar.gz`. */
  name: string;
  /** What the binary must be (checked from its magic bytes). */
  format: BinaryFormat;
  /** Debian (and OCI) architecture: a .deb and a container image are built for these targets. */
  arch?: "amd64" | "arm64";
  /** Built when it builds, without failing the release when it does not. */
  optional?: boolean;
}

export const TARGETS: readonly Target[] = [
  { bun: "bun-linux-x64", name: "linux-x64", format: "elf-x86-64", arch: "amd64" },
  { bun: "bun-linux-arm64", name: "linux-arm64", format: "elf-aarch64", arch: "arm64" },
  { bun: "bun-darwin-arm64", name: "darwin-arm64", format: "macho-arm64" },
  // x86-64 CPUs without AVX2 (before Haswell, some virtual machines).
  { bun: "bun-linux-x64-baseline", name: "linux-x64-baseline", format: "elf-x86-64", optional: true },
  // Alpine and other musl distributions.
  { bun: "bun-linux-x64-musl", name: "linux-x64-musl", format: "elf-x86-64", optional: true },
];

export interface BuildInfo {
  version: string;
  commit: string;
  /** Commit time (seconds since the epoch): the timestamp of every packaged file, for reproducible archives. */
  date: number;
}

/**
 * Flags, each chosen on purpose (the README's "Release builds" explains them):
 * - `--minify`: smaller embedded source, faster parse.
 * - `--bytecode` (needs `--format=esm` for an ES module entry): precompiled JavaScriptCore
 *   bytecode; measured here it cuts start-up CPU by about a third for ~3 MB more binary.
 * - `--sourcemap`: embedded and compressed (~0.4 MB), so a crash's stack trace names
 *   `src/...ts:line` instead of minified positions.
 * - `--no-compile-autoload-dotenv --no-compile-autoload-bunfig`: a server must not change
 *   behaviour with the directory it is started in.
 */
export function compileArgs(target: Target, outfile: string, info: BuildInfo): string[] {
  return [
    "build",
    "--compile",
    `--target=${target.bun}`,
    "--minify",
    "--bytecode",
    "--format=esm",
    "--sourcemap",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    "--define",
    `S3PROXY_VERSION=${JSON.stringify(info.version)}`,
    "--define",
    `S3PROXY_COMMIT=${JSON.stringify(info.commit)}`,
    "src/main.ts",
    "--outfile",
    outfile,
  ];
}

export const ROOT = new URL("..", import.meta.url).pathname;

/** Compile one target; throws with bun's output when the build fails. */
export async function compile(target: Target, outfile: string, info: BuildInfo): Promise<void> {
  const result = await $`${process.execPath} ${compileArgs(target, outfile, info)}`.cwd(ROOT).quiet().nothrow();
  if (result.exitCode !== 0) throw new Error(`bun build for ${target.bun} failed:\n${result.stderr}${result.stdout}`);
  // The source map is embedded in the binary; bun also writes it beside, which nothing ships.
  rmSync(`${outfile}.map`, { force: true });
}

/** Version from package.json, commit and its date from git (marked `-dirty` when tracked files have local changes). */
export async function buildInfo(): Promise<BuildInfo> {
  const pkg = (await Bun.file(`${ROOT}/package.json`).json()) as { version: string };
  const git = gitCommit(ROOT);
  if (!git) throw new Error(`${ROOT} is not a git checkout: a release names its commit`);
  return { version: pkg.version, ...git };
}

/** Where the project lives and who packages it; the environment overrides them for a fork's releases. */
export function releaseMeta(info: BuildInfo, env: Record<string, string | undefined>) {
  const homepage = env.S3PROXY_HOMEPAGE ?? "https://github.com/s3proxy/s3proxy";
  return {
    homepage,
    /** The directory the release archives are uploaded to (GitHub releases layout by default). */
    baseUrl: env.S3PROXY_RELEASE_URL ?? `${homepage}/releases/download/v${info.version}`,
    maintainer: env.S3PROXY_MAINTAINER ?? "s3proxy maintainers <s3proxy@example.org>",
  };
}
