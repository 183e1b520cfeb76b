/**
 * Real command-line clients (Debian awscli, boto3, s3cmd, curl) run against an endpoint.
 * Always Bun.spawn and await: a synchronous spawn would block the in-process servers.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ClientCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  const proc = Bun.spawn(cmd, { env: { ...process.env, AWS_EC2_METADATA_DISABLED: "true", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

function awsEnv(c: ClientCredentials) {
  return { AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey, AWS_SESSION_TOKEN: c.sessionToken, AWS_DEFAULT_REGION: "us-east-1", AWS_MAX_ATTEMPTS: "1" };
}

export function awsCli(endpoint: string, c: ClientCredentials, ...args: string[]): Promise<RunResult> {
  return run(["/usr/bin/aws", "--endpoint-url", endpoint, ...args], awsEnv(c));
}

export function boto3Roundtrip(endpoint: string, c: ClientCredentials, bucket: string, key: string, file: string): Promise<RunResult> {
  return run(["/usr/bin/python3", join(import.meta.dir, "boto3_roundtrip.py"), endpoint, bucket, key, file], awsEnv(c));
}

export function curl(url: string, out: string): Promise<RunResult> {
  return run(["curl", "-sS", "-o", out, "-w", "%{http_code}", url]);
}

/** s3cmd with a throw-away config file (path-style, plain http, SigV4). */
export function s3cmd(endpoint: string, c: ClientCredentials, ...args: string[]): Promise<RunResult> {
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
      "check_ssl_certificate = False",
      "",
    ].join("\n"),
  );
  return run(["s3cmd", "-c", config, "--no-progress", ...args]);
}

/** A temporary file of the given bytes; returns its path. */
export function tempFile(bytes: Uint8Array, name = "data.bin"): string {
  const path = join(mkdtempSync(join(tmpdir(), "s3proxy-")), name);
  writeFileSync(path, bytes);
  return path;
}
