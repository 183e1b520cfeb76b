/**
 * Child processes the bench starts and owns: each prints one JSON line when it is ready,
 * may answer one-line commands on stdin, and is killed by its own pid when the bench is done.
 */
import type { Subprocess } from "bun";
import { readFileSync } from "node:fs";

export interface Child<Info> {
  proc: Subprocess<"pipe", "pipe", "inherit">;
  info: Info;
  /** Send one command line, resolve with the child's one-line JSON answer. */
  ask<T>(command: string): Promise<T>;
  stop(): Promise<void>;
}

/** Yields the lines of a byte stream. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
    }
  }
}

export async function spawnChild<Info>(cmd: string[], env: Record<string, string | undefined> = process.env): Promise<Child<Info>> {
  const proc = Bun.spawn(cmd, { stdin: "pipe", stdout: "pipe", stderr: "inherit", env });
  const reader = lines(proc.stdout);
  const next = async (): Promise<string> => {
    const { value, done } = await reader.next();
    if (done) throw new Error(`${cmd.join(" ")} exited (status ${await proc.exited})`);
    return value;
  };
  const info = JSON.parse(await next()) as Info;
  let queue = Promise.resolve();
  return {
    proc,
    info,
    ask<T>(command: string) {
      const answer = queue.then(async () => {
        proc.stdin.write(command + "\n");
        await proc.stdin.flush();
        return JSON.parse(await next()) as T;
      });
      queue = answer.then(
        () => undefined,
        () => undefined,
      );
      return answer;
    },
    stop: () => stopProcess(proc),
  };
}

export async function stopProcess(proc: Subprocess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
  await proc.exited;
  clearTimeout(timer);
}

/** A free loopback port, found by binding port 0 and letting it go. */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** Poll until an HTTP server answers (any status). */
export async function waitForHttp(url: string, timeoutMs = 15_000, tls?: { ca: string }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await (await fetch(url, { tls })).arrayBuffer();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${url} did not come up: ${err}`);
      await Bun.sleep(50);
    }
  }
}

export interface Memory {
  /** Current resident set, bytes. */
  rss: number;
  /** Peak resident set since the process started (VmHWM), bytes. */
  peak: number;
}

export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

/** Environment for children: the parent's, minus any AWS settings, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith("AWS_")) env[name] = value;
  }
  return { ...env, AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", ...extra };
}
