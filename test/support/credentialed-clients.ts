/**
 * Real command-line clients (Debian awscli, boto3, s3cmd, curl) run with the credentials a
 * test chooses (a proxy key, a wrong secret, a web-identity token as session token).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AWS_CLI, PYTHON, run, type Run } from "./cli-clients.ts";

export interface ClientCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function clientEnv(c: ClientCredentials): Record<string, string> {
  const env: Record<string, string> = {
    PATH: "/usr/bin:/bin",
    HOME: mkdtempSync(join(tmpdir(), "client-home-")),
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_MAX_ATTEMPTS: "1",
    AWS_PAGER: "",
  };
  if (c.sessionToken) env.AWS_SESSION_TOKEN = c.sessionToken;
  return env;
}

export function awsCli(endpoint: string, c: ClientCredentials, ...args: string[]): Promise<Run> {
  return run([AWS_CLI, "--endpoint-url", endpoint, ...args], clientEnv(c));
}

export function boto3Roundtrip(endpoint: string, c: ClientCredentials, bucket: string, key: string, file: string): Promise<Run> {
  return run([PYTHON, join(import.meta.dir, "boto3_roundtrip.py"), endpoint, bucket, key, file], clientEnv(c));
}

/** botocore's SigV2 signers: header-signed put/get/list, then presigned URLs from its default configuration (JSON on stdout). */
export function botocoreSigV2(endpoint: string, c: ClientCredentials, bucket: string, key: string): Promise<Run> {
  return run([PYTHON, join(import.meta.dir, "botocore_sigv2.py"), endpoint, bucket, key], clientEnv(c));
}

export function curl(url: string, out: string): Promise<Run> {
  return run(["curl", "-sS", "-o", out, "-w", "%{http_code}", url], { PATH: "/usr/bin:/bin" });
}

/** s3cmd with a throw-away config file (path-style, plain http, SigV4). */
export function s3cmd(endpoint: string, c: ClientCredentials, ...args: string[]): Promise<Run> {
  const host = new URL(endpoint).host;
  const config = join(mkdtempSync(join(tmpdir(), "s3cmd-")), "s3cfg");
  writeFileSync(
    config,
    [
      "[default]",
      `access_key = ${c.accessKeyId}`,
      `secret_key = ${c.secretAccessKey}`,
      `access_token = ${c.sessionToken ?? ""}`,
      `host_base = ${host}`,
      `host_bucket = ${host}`,
      "use_https = False",
      "signature_v2 = False",
      "bucket_location = us-east-1",
      "",
    ].join("\n"),
  );
  return run(["s3cmd", "-c", config, "--no-progress", ...args], { PATH: "/usr/bin:/bin", HOME: mkdtempSync(join(tmpdir(), "client-home-")) });
}

/** A temporary file of the given bytes; returns its path. */
export function tempFile(bytes: Uint8Array, name = "data.bin"): string {
  const path = join(mkdtempSync(join(tmpdir(), "s3proxy-")), name);
  writeFileSync(path, bytes);
  return path;
}
