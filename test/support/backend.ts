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
