/**
 * Start-up time of s3proxy: from exec to the port accepting TCP connections, and to the
 * first S3 answer, in front of an embedded s3rver on loopback. Reports min / median / max.
 * On Linux it also reports the CPU time the process used until it accepted connections,
 * which a busy machine distorts far less than wall-clock time.
 *
 *   bun scripts/startup-time.ts [--runs N] [command ...]   (default: dist/bin/linux-x64/s3proxy)
 *   bun scripts/startup-time.ts --runs 20 bun src/main.ts   (from source, for comparison)
 */
import { readFileSync, statSync } from "node:fs";
import { startBackend } from "../test/support/backend.ts";

const argv = process.argv.slice(2);
let runs = 20;
if (argv[0] === "--runs") {
  runs = Number(argv[1]);
  argv.splice(0, 2);
}
const command = argv.length ? argv : ["dist/bin/linux-x64/s3proxy"];

/** A port that was free a moment ago (the proxy must bind a known port for us to poll it). */
function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

async function accepts(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

const backend = await startBackend();
const env = {
  PATH: process.env.PATH,
  AWS_ACCESS_KEY_ID: backend.accessKeyId,
  AWS_SECRET_ACCESS_KEY: backend.secretAccessKey,
  AWS_EC2_METADATA_DISABLED: "true",
};

/** User + system CPU of a running process in ms (Linux /proc, 10 ms ticks), or NaN elsewhere. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

async function once(): Promise<{ listen: number; cpu: number; firstAnswer: number }> {
  const port = freePort();
  const start = performance.now();
  const proc = Bun.spawn([...command, "--host", "127.0.0.1", "--port", String(port), "--endpoint", backend.endpoint, "--log-level", "error"], {
    env,
    stdout: "ignore",
    stderr: "inherit",
  });
  try {
    // Poll every millisecond: the resolution of the measurement, cheap next to the start-up itself.
    while (!(await accepts(port))) {
      if (proc.exitCode !== null) throw new Error(`${command.join(" ")} exited with ${proc.exitCode}`);
      await Bun.sleep(1);
    }
    const listen = performance.now() - start;
    const cpu = cpuMs(proc.pid);
    await fetch(`http://127.0.0.1:${port}/${backend.bucket}/startup-probe`, { method: "HEAD" });
    return { listen, cpu, firstAnswer: performance.now() - start };
  } finally {
    proc.kill();
    await proc.exited;
  }
}

function summary(label: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return `${label}: median ${ms(sorted[Math.floor(sorted.length / 2)]!)}, min ${ms(sorted[0]!)}, max ${ms(sorted.at(-1)!)}`;
}

try {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await once());
  const target = command[0]!;
  const size = command.length === 1 ? ` (${(statSync(target).size / 1024 ** 2).toFixed(1)} MiB)` : "";
  console.log(`${command.join(" ")}${size}, ${runs} runs`);
  console.log(
    summary(
      "  exec → accepting connections",
      results.map((r) => r.listen),
    ),
  );
  console.log(
    summary(
      "  exec → first S3 answer      ",
      results.map((r) => r.firstAnswer),
    ),
  );
  console.log(
    summary(
      "  CPU until accepting         ",
      results.map((r) => r.cpu),
    ),
  );
} finally {
  await backend.stop();
}
