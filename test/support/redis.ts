/**
 * A real redis-server on a free loopback port, started by the suite that needs it (the
 * Debian package `redis-server`, installed by scripts/setup.sh): no persistence, a 64 MiB
 * budget with allkeys-lru, as the README recommends for the shared tier.
 */
import { RedisClient } from "bun";

export interface TestRedis {
  url: string;
  port: number;
  /** Stop it hard (kill -9), as a crash would. */
  kill(): Promise<void>;
  /** Start it again on the same port (empty). */
  restart(): Promise<void>;
  /** Run one command against it (a fresh connection each time, so it works across restarts). */
  command(name: string, args?: string[]): Promise<unknown>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const client = new RedisClient(url, { autoReconnect: false, connectionTimeout: 200 });
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return;
    } catch {
    } finally {
      client.close();
    }
    await Bun.sleep(50);
  }
  throw new Error(`redis-server at ${url} did not start`);
}

export async function startRedis(maxmemory = "64mb"): Promise<TestRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const spawn = () =>
    Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory", maxmemory, "--maxmemory-policy", "allkeys-lru"], {
      stdout: "ignore",
      stderr: "inherit",
    });
  let proc = spawn();
  await waitReady(url);
  const kill = async () => {
    proc.kill(9);
    await proc.exited;
  };
  return {
    url,
    port,
    kill,
    async restart() {
      proc = spawn();
      await waitReady(url);
    },
    async command(name, args = []) {
      const client = new RedisClient(url, { autoReconnect: false });
      try {
        await client.connect();
        return await client.send(name, args);
      } finally {
        client.close();
      }
    },
    stop: kill,
  };
}
