/** Python-based clients (Debian's awscli and boto3), spawned with a clean environment. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backend } from "./backend.ts";

/** Debian's awscli: a pyenv shim named `aws` may come first on PATH. */
export const AWS_CLI = "/usr/bin/aws";
export const PYTHON = "/usr/bin/python3";

/** Environment for a Python client: the backend's keys, a throw-away HOME, no metadata probes. */
export function pythonClientEnv(backend: Pick<Backend, "accessKeyId" | "secretAccessKey" | "region">): Record<string, string> {
  return {
    PATH: "/usr/bin:/bin",
    HOME: mkdtempSync(join(tmpdir(), "client-home-")),
    AWS_ACCESS_KEY_ID: backend.accessKeyId,
    AWS_SECRET_ACCESS_KEY: backend.secretAccessKey,
    AWS_DEFAULT_REGION: backend.region,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
  };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawn and await (never spawnSync: the servers it talks to live in this process). */
export async function run(cmd: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  const proc = Bun.spawn(cmd, { env, stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
