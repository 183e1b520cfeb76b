/**
 * The proxy as a separate process (`bun src/main.ts`), for what only a real process shows:
 * signals, exit codes, log lines. Its stderr/stdout lines are collected as they arrive.
 */
import type { Subprocess } from "bun";
import type { Backend } from "./backend.ts";
import { noAuthUnlessAsked } from "./spawn.ts";

export interface SpawnedProxy {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  endpoint: string;
  port: number;
  lines: string[];
  /** Resolves with the first line matching, already seen or still to come. */
  waitForLine(pattern: RegExp): Promise<string>;
}

/**
 * `bunRun`: start it as users do from source, `bun run start -- …`, in a process group of its
 * own (the group's id is `proc.pid`), so a test can signal the group as a terminal's Ctrl-C does.
 */
export async function spawnProxy(backend: Pick<Backend, "endpoint" | "accessKeyId" | "secretAccessKey" | "region">, args: string[] = [], opts: { bunRun?: boolean } = {}): Promise<SpawnedProxy> {
  const command = opts.bunRun ? ["bun", "run", "start", "--"] : ["bun", "src/main.ts"];
  const proc = Bun.spawn([...command, "--endpoint", backend.endpoint, "--host", "127.0.0.1", "--port", "0", "--region", backend.region, ...noAuthUnlessAsked(args), ...args], {
    env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: backend.accessKeyId, AWS_SECRET_ACCESS_KEY: backend.secretAccessKey, AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: opts.bunRun,
  });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let partial = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const parts = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        for (const w of waiters.filter((w) => w.pattern.test(line))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  void collect(proc.stdout);
  void collect(proc.stderr);
  const waitForLine = (pattern: RegExp) => {
    const seen = lines.find((l) => pattern.test(l));
    return seen !== undefined ? Promise.resolve(seen) : new Promise<string>((resolve) => waiters.push({ pattern, resolve }));
  };
  const started = await Promise.race([waitForLine(/listening on https?:\/\/127\.0\.0\.1:\d+/), proc.exited.then((code) => `exited ${code}`)]);
  const port = /127\.0\.0\.1:(\d+)/.exec(started)?.[1];
  if (!port) throw new Error(`the proxy did not start (${started}):\n${lines.join("\n")}`);
  return { proc, endpoint: `${/listening on https/.test(started) ? "https" : "http"}://127.0.0.1:${port}`, port: Number(port), lines, waitForLine };
}
