/**
 * A real Redis Cluster of three masters on free loopback ports, started by the suite that
 * needs it and stopped by it (Debian's redis-server 7 and redis-cli). No persistence, so a
 * killed node comes back empty but still owning its slots (its nodes-P.conf survives);
 * `cluster-require-full-coverage no`, as the README asks of a cache cluster, so a dead master
 * costs only its own slots; a short node timeout so the survivors notice a death quickly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "./redis.ts";

export interface TestRedisCluster {
  /** "127.0.0.1:p1,127.0.0.1:p2,..." as --redis-cluster takes it. */
  seeds: string;
  ports: number[];
  /** Stop node `i` hard (kill -9), as a crash would. */
  kill(i: number): Promise<void>;
  /** Start node `i` again on its port (empty) and wait until the cluster reports ok. */
  restart(i: number): Promise<void>;
  /** Run redis-cli against node `i` (e.g. ["CLUSTER", "INFO"]). */
  cli(i: number, args: string[]): Promise<string>;
  /** The port of the master serving `key`. */
  portOf(key: string): Promise<number>;
  stop(): Promise<void>;
}

async function run(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code}): ${err || out}`);
  return out;
}

/** Poll `check` up to `tries` times, 50 ms apart: waiting on another process's state, bounded. */
async function until(what: string, tries: number, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check().catch(() => false)) return;
    await Bun.sleep(50);
  }
  throw new Error(`redis cluster: ${what} did not happen`);
}

/** `password`: every node requires it (AUTH default user), as a managed cluster would. */
export async function startRedisCluster(nodes = 3, maxmemory = "64mb", password?: string): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "redis-cluster-"));
  const ports: number[] = [];
  for (let i = 0; i < nodes; i++) ports.push(await freePort());
  const procs: Array<Subprocess | undefined> = [];
  const auth = password ? ["-a", password, "--no-auth-warning"] : [];
  const cli = (i: number, args: string[]) => run(["redis-cli", "-p", String(ports[i]), ...auth, ...args]);
  const spawn = async (i: number) => {
    const port = String(ports[i]);
    procs[i] = Bun.spawn(
      [
        "redis-server",
        "--port",
        port,
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        `nodes-${port}.conf`,
        "--dir",
        dir,
        "--cluster-node-timeout",
        "500",
        "--cluster-require-full-coverage",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--maxmemory",
        maxmemory,
        "--maxmemory-policy",
        "allkeys-lru",
        ...(password ? ["--requirepass", password, "--masterauth", password] : []),
      ],
      { stdout: "ignore", stderr: "inherit" },
    );
    await until(`node ${port} answering`, 100, async () => (await cli(i, ["PING"])).trim() === "PONG");
  };
  const clusterOk = () =>
    until("cluster_state:ok on every live node", 200, async () => {
      for (let i = 0; i < nodes; i++) if (procs[i] && !(await cli(i, ["CLUSTER", "INFO"])).includes("cluster_state:ok")) return false;
      return true;
    });
  await Promise.all(ports.map((_, i) => spawn(i)));
  await run(["redis-cli", ...auth, "--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-yes"]);
  await clusterOk();
  const kill = async (i: number) => {
    const proc = procs[i];
    procs[i] = undefined;
    proc?.kill(9);
    await proc?.exited;
  };
  return {
    seeds: ports.map((p) => `127.0.0.1:${p}`).join(","),
    ports,
    kill,
    async restart(i) {
      await spawn(i);
      await clusterOk();
    },
    cli,
    async portOf(key) {
      const slot = Number(
        (
          await cli(
            ports.findIndex((_, i) => procs[i]),
            ["CLUSTER", "KEYSLOT", key],
          )
        ).trim(),
      );
      const live = ports.findIndex((_, i) => procs[i]);
      const lines = (await cli(live, ["CLUSTER", "NODES"])).split("\n");
      for (const line of lines) {
        const [, addr, flags, , , , , , ...ranges] = line.split(" ");
        if (!flags?.includes("master")) continue;
        for (const r of ranges) {
          const [a, b] = r.split("-").map(Number);
          if (slot >= a! && slot <= (b ?? a)!) return Number(addr!.split(":")[1]!.split("@")[0]);
        }
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    async stop() {
      await Promise.all(ports.map((_, i) => kill(i)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
