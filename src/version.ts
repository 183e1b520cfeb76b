/** Version and commit, replaced at compile time by `--define` in release builds (scripts/release-targets.ts). */
declare const S3PROXY_VERSION: string | undefined;
declare const S3PROXY_COMMIT: string | undefined;

export const VERSION: string = typeof S3PROXY_VERSION === "string" ? S3PROXY_VERSION : "0.1.0-dev";
export const COMMIT: string = typeof S3PROXY_COMMIT === "string" ? S3PROXY_COMMIT : "unknown";

/** The `--version` line: what a bug report needs to name the exact build. */
export function versionLine(): string {
  return `s3proxy ${VERSION} (commit ${COMMIT}, bun ${Bun.version}, ${process.platform}-${process.arch})`;
}
