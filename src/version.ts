/** Version and commit, replaced at compile time by `--define` in release builds. */
declare const S3PROXY_VERSION: string | undefined;
declare const S3PROXY_COMMIT: string | undefined;

export const VERSION: string = typeof S3PROXY_VERSION === "string" ? S3PROXY_VERSION : "0.1.0-dev";
export const COMMIT: string = typeof S3PROXY_COMMIT === "string" ? S3PROXY_COMMIT : "unknown";
