/** wrk (Debian): one fixed request hammered over keep-alive connections; its report parsed. */

export interface WrkResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx/3xx answers plus socket errors: a run with any is not a valid figure. */
  errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latencyMs(text: string, pct: string): number {
  const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
}

/** Parse `wrk --latency` output. */
export function parseWrk(text: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requestsPerSec: rps ? Number(rps[1]) : NaN,
    p50Ms: latencyMs(text, "50"),
    p99Ms: latencyMs(text, "99"),
    errors: Number(non2xx?.[1] ?? 0) + socketErrors,
  };
}

export interface WrkOptions {
  url: string;
  connections: number;
  durationSec: number;
  headers?: Record<string, string>;
  threads?: number;
  /** A wrk Lua script (its path) that builds each request, e.g. a different range each time. */
  script?: string;
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const cmd = ["wrk", `-t${o.threads ?? 1}`, `-c${o.connections}`, `-d${o.durationSec}s`, "--latency", "--timeout", "10s"];
  for (const [name, value] of Object.entries(o.headers ?? {})) cmd.push("-H", `${name}: ${value}`);
  if (o.script) cmd.push("-s", o.script);
  cmd.push(o.url);
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`wrk failed (${code}): ${err}`);
  return parseWrk(out);
}
