/** Version and commit, replaced at compile time by `--define` in release builds (scripts/release-targets.ts). */
declare const S3PROXY_VERSION: string | undefined;
declare const S3PROXY_COMMIT: string | undefined;

export const VERSION: string = typeof S3PROXY_VERSION === "string" ? S3PROXY_VERSION : "0.1.0-dev";

/**
 * The checkout's commit (`-dirty` when tracked files have local changes) and its date, from
 * git; undefined outside a git checkout or without git. Release builds bake it in; running
 * from source asks git.
 */
export function gitCommit(dir: string): { commit: string; date: number } | undefined {
  const git = (...args: string[]) => {
    try {
      const r = Bun.spawnSync(["git", ...args], { cwd: dir, stdout: "pipe", stderr: "ignore" });
      return r.exitCode === 0 ? r.stdout.toString().trim() : undefined;
    } catch {
      return undefined; // no git on PATH
    }
  };
  const log = git("log", "-1", "--format=%h%n%ct", "--abbrev=12");
  if (!log) return undefined;
  const [commit, date] = log.split("\n");
  const dirty = (git("status", "--porcelain", "--untracked-files=no") ?? "") !== "";
  return { commit: dirty ? `${commit}-dirty` : commit!, date: Number(date) };
}

/** The `--version` line: what a bug report needs to name the exact build. */
export function versionLine(): string {
  const commit = typeof S3PROXY_COMMIT === "string" ? S3PROXY_COMMIT : (gitCommit(import.meta.dir)?.commit ?? "unknown");
  return `s3proxy ${VERSION} (commit ${commit}, bun ${Bun.version}, ${process.platform}-${process.arch})`;
}
