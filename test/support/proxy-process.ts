/**
 * The proxy as a separate process (`bun src/main.ts`), for what an in-process proxy cannot
 * show: being killed with SIGKILL mid-work.
 */
import { join } from "node:path";
import type { Backend } from "./backend.ts";

export interface ProxyProcess {
  endpoint: string;
  pid: number;
  /** SIGKILL, as a crash or the OOM killer would. */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

const MAIN = join(import.meta.dir, "../../src/main.ts");

export async function spawnProxy(backend: Pick<Backend, "endpoint" | "accessKeyId" | "secretAccessKey" | "region">, flags: string[]): Promise<ProxyProcess> {
  const proc = Bun.spawn(["bun", MAIN, "--endpoint", backend.endpoint, "--region", backend.region, "--host", "127.0.0.1", "--port", "0", "--log-format", "json", ...flags], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_ACCESS_KEY_ID: backend.accessKeyId, AWS_SECRET_ACCESS_KEY: backend.secretAccessKey, AWS_EC2_METADATA_DISABLED: "true" },
    stdout: "pipe",
    stderr: "pipe",
  });
  // The one line that says where it listens (JSON logs go to stderr).
  const reader = proc.stderr.getReader();
  let text = "";
  let endpoint: string | undefined;
  while (!endpoint) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`proxy exited before listening: ${text}`);
    text += new TextDecoder().decode(value);
    endpoint = /listening on (http:\/\/[^/\s]+)/.exec(text)?.[1];
  }
  // Keep draining its log so the pipe never fills and blocks it.
  void (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done);
  })();
  return {
    endpoint,
    pid: proc.pid,
    async kill() {
      proc.kill(9);
      await proc.exited;
    },
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}
