/**
 * The S3 backend the suites run against: an embedded s3rver on a free loopback port by
 * default, or any S3 endpoint named by S3PROXY_TEST_ENDPOINT (+ S3PROXY_TEST_ACCESS_KEY_ID,
 * S3PROXY_TEST_SECRET_ACCESS_KEY, S3PROXY_TEST_REGION, S3PROXY_TEST_BUCKET) so the same
 * suites can run against MinIO or AWS.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

export interface Backend {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** A bucket that exists for the suite to use. */
  bucket: string;
  /** True for the embedded s3rver (which does not verify signatures and has known quirks). */
  embedded: boolean;
  stop(): Promise<void>;
}

export async function startBackend(buckets: string[] = ["test-bucket"]): Promise<Backend> {
  const external = process.env.S3PROXY_TEST_ENDPOINT;
  if (external) {
    return {
      endpoint: external,
      accessKeyId: process.env.S3PROXY_TEST_ACCESS_KEY_ID ?? "",
      secretAccessKey: process.env.S3PROXY_TEST_SECRET_ACCESS_KEY ?? "",
      region: process.env.S3PROXY_TEST_REGION ?? "us-east-1",
      bucket: process.env.S3PROXY_TEST_BUCKET ?? buckets[0]!,
      embedded: false,
      async stop() {},
    };
  }
  const directory = mkdtempSync(join(tmpdir(), "s3rver-"));
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  answerSuffixRangesAsS3Does(server);
  const info = (await server.run()) as { address: string; port: number };
  return {
    endpoint: `http://127.0.0.1:${info.port}`,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    region: "us-east-1",
    bucket: buckets[0]!,
    embedded: true,
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver reads `Range: bytes=-N` as `bytes=0-N`; S3 (and MinIO, R2, Ceph) answer the last N
 * bytes. Ahead of its routes, a suffix range of an object it holds is rewritten to the
 * open-ended range S3 would answer, so suites and the bench see S3's suffix semantics.
 */
function answerSuffixRangesAsS3Does(server: S3rver): void {
  const app = server as unknown as { middleware: Array<(ctx: SuffixContext, next: () => Promise<void>) => Promise<void>>; store: { getMetadata(bucket: string, key: string): Promise<Record<string, string>> } };
  app.middleware.unshift(async (ctx, next) => {
    const m = /^bytes=-(\d+)$/.exec(ctx.headers.range ?? "");
    const slash = ctx.path.indexOf("/", 1);
    if (m && Number(m[1]) > 0 && ctx.method === "GET" && slash > 0) {
      const size = await app.store
        .getMetadata(decodeURIComponent(ctx.path.slice(1, slash)), decodeURIComponent(ctx.path.slice(slash + 1)))
        .then((meta) => Number(meta["content-length"]))
        .catch(() => 0);
      if (size > 0) ctx.headers.range = `bytes=${Math.max(0, size - Number(m[1]))}-`;
    }
    await next();
  });
}

interface SuffixContext {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
}
