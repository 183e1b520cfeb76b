/**
 * Benchmark tool: a TCP relay that makes a loopback backend feel like a remote object store.
 *
 * Every byte is passed through untouched; the first byte of each response is held back by
 * `delayMs` (default 20 ms, the order of an S3 GET's time to first byte within a region), and
 * optional bandwidth caps pace what the backend sends: over all connections together, and per
 * connection (S3 delivers roughly 50-100 MB/s on one connection, more only over many). It knows nothing of HTTP
 * beyond "the client speaks, then the server answers": a client chunk that follows a
 * response starts a new request (HTTP/1.1 without pipelining, which every S3 client uses).
 * It counts those requests and the bytes each way, so a benchmark can tell how many
 * backend requests a run cost.
 *
 *   bun scripts/bench/latency-relay.ts --target 127.0.0.1:9000 [--port 0] [--delay 20] [--bandwidth 100MiB] [--connection-bandwidth 80MiB]
 *
 * prints {"port":N} once listening, then answers the stdin lines `stats` and `reset` with
 * one JSON line of counters.
 */
import type { Socket } from "bun";
import { parseRate } from "./link.ts";

export interface LatencyRelayOptions {
  targetHost: string;
  targetPort: number;
  port?: number;
  /** Added to the first byte of each response; 0 to relay without delay. */
  delayMs?: number;
  /** Bytes per second the backend may send, over all connections; unlimited when absent. */
  bandwidth?: number;
  /** Bytes per second the backend may send on each connection; unlimited when absent. */
  connectionBandwidth?: number;
}

export interface RelayStats {
  connections: number;
  requests: number;
  bytesToBackend: number;
  bytesFromBackend: number;
}

export interface LatencyRelay {
  port: number;
  stats(): RelayStats;
  reset(): RelayStats;
  stop(): void;
}

/** Above this many queued bytes the sending side is paused until the receiver drains. */
const HIGH_WATER = 4 * 1024 * 1024;

/** An ordered, paced, back-pressured byte queue towards one socket. */
class Outbox {
  private queue: { bytes: Uint8Array; due: number }[] = [];
  private queued = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private target: Socket<unknown> | undefined;
  private closing = false;
  private paused = false;

  constructor(private readonly onPressure: (paused: boolean) => void) {}

  attach(socket: Socket<unknown>): void {
    this.target = socket;
    this.flush();
  }

  push(bytes: Uint8Array, due: number): void {
    // Bun reuses the buffer it hands to `data`, so keep a copy while it waits.
    this.queue.push({ bytes: bytes.slice(), due });
    this.queued += bytes.length;
    if (this.queued > HIGH_WATER && !this.paused) this.onPressure((this.paused = true));
    this.flush();
  }

  /** End the target once everything queued is written. */
  end(): void {
    this.closing = true;
    this.flush();
  }

  flush(): void {
    const target = this.target;
    if (!target) return;
    const now = performance.now();
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.due > now) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.flush();
        }, head.due - now);
        return;
      }
      const written = target.write(head.bytes);
      this.queued -= Math.max(0, written);
      if (written < head.bytes.length) {
        head.bytes = head.bytes.subarray(Math.max(0, written));
        return; // the rest goes out on `drain`
      }
      this.queue.shift();
    }
    if (this.paused && this.queued <= HIGH_WATER / 2) this.onPressure((this.paused = false));
    if (this.closing) target.end();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.queue = [];
  }
}

interface Conn {
  client: Socket<Conn>;
  backend?: Socket<Conn>;
  toBackend: Outbox;
  toClient: Outbox;
  /** The client has spoken and the backend has not answered yet. */
  awaitingResponse: boolean;
  /** The next client chunk starts a new request. */
  idle: boolean;
  /** When the current response may start flowing to the client. */
  responseDue: number;
  /** This connection's own bandwidth cap. */
  pace: Pacer;
}

/** When `length` bytes, ready at `earliest`, have passed a link of this many bytes per second. */
export type Pacer = (length: number, earliest: number) => number;

export function pacer(bytesPerSecond: number | undefined): Pacer {
  if (!bytesPerSecond) return (_, earliest) => earliest;
  let freeAt = 0;
  return (length, earliest) => (freeAt = Math.max(earliest, freeAt) + (length / bytesPerSecond) * 1000);
}

export function startLatencyRelay(opts: LatencyRelayOptions): LatencyRelay {
  const delayMs = opts.delayMs ?? 20;
  const stats: RelayStats = { connections: 0, requests: 0, bytesToBackend: 0, bytesFromBackend: 0 };
  // The link is shared: `bandwidth` paces all connections together.
  const link = pacer(opts.bandwidth);

  const server = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    socket: {
      open(client) {
        stats.connections++;
        const conn: Conn = {
          client,
          awaitingResponse: false,
          idle: true,
          responseDue: 0,
          pace: pacer(opts.connectionBandwidth),
          toBackend: new Outbox((paused) => (paused ? client.pause() : client.resume())),
          toClient: new Outbox((paused) => (paused ? conn.backend?.pause() : conn.backend?.resume())),
        };
        client.data = conn;
        conn.toClient.attach(client as Socket<unknown>);
        Bun.connect<Conn>({
          hostname: opts.targetHost,
          port: opts.targetPort,
          data: conn,
          socket: {
            open(backend) {
              backend.setNoDelay(true);
              conn.backend = backend;
              conn.toBackend.attach(backend as Socket<unknown>);
            },
            data(backend, bytes) {
              const c = backend.data;
              stats.bytesFromBackend += bytes.length;
              c.idle = true;
              const due = performance.now();
              if (c.awaitingResponse) {
                c.awaitingResponse = false;
                c.responseDue = due + delayMs;
              }
              c.toClient.push(bytes, link(bytes.length, c.pace(bytes.length, Math.max(due, c.responseDue))));
            },
            drain: (backend) => backend.data.toBackend.flush(),
            close: (backend) => backend.data.toClient.end(),
            error: (backend) => backend.data.toClient.end(),
            connectError: (backend) => void backend.data.client.end(),
          },
        }).catch(() => client.end());
      },
      data(client, bytes) {
        const c = client.data;
        stats.bytesToBackend += bytes.length;
        if (c.idle) {
          stats.requests++;
          c.idle = false;
          c.awaitingResponse = true;
        }
        c.toBackend.push(bytes, 0);
      },
      drain: (client) => client.data.toClient.flush(),
      close(client) {
        client.data.toClient.clear();
        client.data.toBackend.end();
      },
      error: (client) => client.data.toBackend.end(),
    },
  });
  return {
    port: server.port,
    stats: () => ({ ...stats }),
    reset() {
      const before = { ...stats };
      stats.requests = stats.bytesToBackend = stats.bytesFromBackend = stats.connections = 0;
      return before;
    },
    stop: () => server.stop(true),
  };
}

function parseArgs(argv: string[]): LatencyRelayOptions {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const target = get("target");
  if (!target || !/^[^:]+:\d+$/.test(target)) throw new Error("usage: latency-relay.ts --target HOST:PORT [--port N] [--delay MS] [--bandwidth BYTES_PER_S|NMiB] [--connection-bandwidth BYTES_PER_S|NMiB]");
  const [host, port] = target.split(":");
  const rate = (bw: string | undefined) => (bw ? parseRate(bw) : undefined);
  return { targetHost: host!, targetPort: Number(port), port: Number(get("port") ?? 0), delayMs: Number(get("delay") ?? 20), bandwidth: rate(get("bandwidth")), connectionBandwidth: rate(get("connection-bandwidth")) };
}

if (import.meta.main) {
  const relay = startLatencyRelay(parseArgs(process.argv.slice(2)));
  console.log(JSON.stringify({ port: relay.port }));
  for await (const line of console) {
    if (line === "stats") console.log(JSON.stringify(relay.stats()));
    else if (line === "reset") console.log(JSON.stringify(relay.reset()));
  }
}
