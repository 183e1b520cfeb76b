/** The proxy as a separate process (`bun src/main.ts`), as users run it. */
import type { Subprocess } from "bun";
import { join } from "node:path";

export const MAIN = join(import.meta.dir, "../../src/main.ts");

export interface SpawnedProxy {
  endpoint: string;
  process: Subprocess<"ignore", "pipe", "pipe">;
  stop(): Promise<void>;
}

/** Start `bun src/main.ts` on a free loopback port and wait for its "listening on" line. */
export async function spawnProxy(args: string[], env: Record<string, string>): Promise<SpawnedProxy> {
  const proc = Bun.spawn([process.execPath, MAIN, "--host", "127.0.0.1", "--port", "0", ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", AWS_EC2_METADATA_DISABLED: "true", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let seen = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`proxy exited before listening: ${seen}${await new Response(proc.stderr).text()}`);
    seen += new TextDecoder().decode(value);
    const m = /listening on (http:\/\/[^/\s]+)/.exec(seen);
    if (m) {
      // Keep draining the access log so the child never blocks on a full pipe.
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return {
        endpoint: m[1]!,
        process: proc,
        async stop() {
          proc.kill();
          await proc.exited;
        },
      };
    }
  }
}
