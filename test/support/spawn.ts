/** The proxy as a separate process (`bun src/main.ts`), as users run it. */
import type { Subprocess } from "bun";
import { join } from "node:path";

export const MAIN = join(import.meta.dir, "../../src/main.ts");

export interface SpawnedProxy {
  endpoint: string;
  process: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the proxy has logged so far, stdout and stderr interleaved. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Suites that are not about client authentication send raw, unsigned requests: a spawned
 * proxy gets `--auth none` unless the arguments choose an auth setting themselves.
 */
export function noAuthUnlessAsked(args: readonly string[]): string[] {
  return args.some((a) => /^--(auth|client-keys)/.test(a)) ? [] : ["--auth", "none"];
}

/** Start `bun src/main.ts` on a free loopback port and wait for its "listening on" line (logged at info). */
export async function spawnProxy(args: string[], env: Record<string, string>): Promise<SpawnedProxy> {
  const proc = Bun.spawn([process.execPath, MAIN, "--host", "127.0.0.1", "--port", "0", ...noAuthUnlessAsked(args), ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", AWS_EC2_METADATA_DISABLED: "true", NO_COLOR: "1", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const { promise: listening, resolve, reject } = Promise.withResolvers<string>();
  // Keep draining both streams so the child never blocks on a full pipe.
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      output += decoder.decode(bytes, { stream: true });
      const m = /listening on (https?:\/\/[^/\s]+)/.exec(output);
      if (m) resolve(m[1]!);
    }
  };
  void Promise.all([drain(proc.stdout), drain(proc.stderr)]).then(() => reject(new Error(`proxy exited before listening: ${output}`)));
  const endpoint = await listening;
  return {
    endpoint,
    process: proc,
    output: () => output,
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}
