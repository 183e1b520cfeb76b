/**
 * A TCP relay between the proxy and the backend that injects faults into backend answers:
 * refused connections, resets and truncation mid-body, stalls before the first byte or
 * mid-body, a corrupted byte, canned 500/503 answers. Each new connection takes the next
 * queued fault (then passes bytes through untouched); `dropIdle()` closes pooled
 * connections so the next request opens a fresh, faulted one. A test tool, not product code.
 */
import type { Socket, TCPSocketListener } from "bun";

export type Fault =
  | { kind: "reset"; afterBodyBytes: number }
  | { kind: "truncate"; afterBodyBytes: number }
  | { kind: "stall"; ms: number }
  | { kind: "stall-mid-body"; afterBodyBytes: number; ms: number }
  | { kind: "corrupt"; atBodyByte: number }
  | { kind: "status"; status: 500 | 503 };

interface Conn {
  upstream?: Socket<Conn>;
  client: Socket<Conn>;
  fault?: Fault;
  /** Client bytes that arrived before the backend connection was open. */
  pendingUp: Uint8Array[];
  /** Bytes waiting for the client socket to drain. */
  pendingDown: Uint8Array[];
  headDone: boolean;
  headBuf: number[];
  bodySeen: number;
  held: boolean;
  closed: boolean;
}

export interface FaultRelay {
  endpoint: string;
  port: number;
  queue(...faults: Fault[]): void;
  /** Stop accepting: connections are refused until `up()`. */
  down(): void;
  up(): void;
  dropIdle(): void;
  connections: number;
  stop(): void;
}

const CANNED: Record<number, string> = {
  500: "<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>",
  503: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
};

export function startFaultRelay(backend: { hostname: string; port: number }): FaultRelay {
  const faults: Fault[] = [];
  const open = new Set<Conn>();
  let listener: TCPSocketListener<Conn> | undefined;
  let port = 0;
  let connections = 0;

  function send(c: Conn, bytes: Uint8Array): void {
    if (c.closed) return;
    if (c.pendingDown.length > 0) {
      c.pendingDown.push(bytes);
      return;
    }
    const written = c.client.write(bytes);
    if (written < bytes.length) c.pendingDown.push(bytes.subarray(Math.max(0, written)));
  }

  function closeBoth(c: Conn, hard: boolean): void {
    if (c.closed) return;
    c.closed = true;
    open.delete(c);
    if (hard) c.client.terminate();
    else c.client.end();
    c.upstream?.end();
  }

  /** Apply the connection's fault to bytes coming back from the backend. */
  function downstream(c: Conn, chunk: Uint8Array): void {
    const f = c.fault;
    if (!f || c.held) {
      if (!c.held) send(c, chunk);
      return;
    }
    let body = chunk;
    if (!c.headDone) {
      for (let i = 0; i < chunk.length; i++) {
        c.headBuf.push(chunk[i]!);
        const n = c.headBuf.length;
        if (n >= 4 && c.headBuf[n - 4] === 13 && c.headBuf[n - 3] === 10 && c.headBuf[n - 2] === 13 && c.headBuf[n - 1] === 10) {
          c.headDone = true;
          send(c, new Uint8Array(c.headBuf));
          body = chunk.subarray(i + 1);
          break;
        }
      }
      if (!c.headDone) return;
    }
    const start = c.bodySeen;
    c.bodySeen += body.length;
    switch (f.kind) {
      case "corrupt": {
        if (f.atBodyByte >= start && f.atBodyByte < c.bodySeen) {
          const copy = body.slice();
          copy[f.atBodyByte - start]! ^= 0xff;
          body = copy;
        }
        send(c, body);
        return;
      }
      case "reset":
      case "truncate":
      case "stall-mid-body": {
        if (c.bodySeen <= f.afterBodyBytes) {
          send(c, body);
          return;
        }
        send(c, body.subarray(0, Math.max(0, f.afterBodyBytes - start)));
        if (f.kind === "stall-mid-body") {
          c.held = true;
          setTimeout(() => closeBoth(c, true), f.ms);
          return;
        }
        closeBoth(c, f.kind === "reset");
        return;
      }
      default:
        send(c, body);
    }
  }

  function listen(): void {
    listener = Bun.listen<Conn>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          connections++;
          const c: Conn = { client, fault: faults.shift(), pendingUp: [], pendingDown: [], headDone: false, headBuf: [], bodySeen: 0, held: false, closed: false };
          client.data = c;
          open.add(c);
          if (c.fault?.kind === "status") return; // answered from the relay itself
          void Bun.connect<Conn>({
            hostname: backend.hostname,
            port: backend.port,
            socket: {
              open(up) {
                up.data = c;
                c.upstream = up;
                for (const b of c.pendingUp.splice(0)) up.write(b);
              },
              data(_up, chunk) {
                const f = c.fault;
                if (f?.kind === "stall" && !c.headDone) {
                  c.headDone = true;
                  c.held = true;
                  const copy = chunk.slice();
                  setTimeout(() => {
                    c.held = false;
                    c.fault = undefined;
                    send(c, copy);
                  }, f.ms);
                  return;
                }
                downstream(c, chunk);
              },
              close() {
                if (!c.held) closeBoth(c, false);
              },
              error() {
                closeBoth(c, true);
              },
            },
          }).catch(() => closeBoth(c, true));
        },
        data(client, chunk) {
          const c = client.data;
          if (c.fault?.kind === "status") {
            if (!new TextDecoder().decode(chunk).includes("\r\n\r\n")) return;
            const body = CANNED[c.fault.status]!;
            send(c, new TextEncoder().encode(`HTTP/1.1 ${c.fault.status} Error\r\nContent-Type: application/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`));
            closeBoth(c, false);
            return;
          }
          if (c.upstream) c.upstream.write(chunk);
          else c.pendingUp.push(chunk.slice());
        },
        drain(client) {
          const c = client.data;
          while (c.pendingDown.length > 0) {
            const next = c.pendingDown[0]!;
            const written = client.write(next);
            if (written < next.length) {
              c.pendingDown[0] = next.subarray(Math.max(0, written));
              return;
            }
            c.pendingDown.shift();
          }
        },
        close(client) {
          closeBoth(client.data, false);
        },
        error(client) {
          closeBoth(client.data, true);
        },
      },
    });
    port = listener.port;
  }

  listen();
  return {
    get endpoint() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get connections() {
      return connections;
    },
    queue: (...f) => void faults.push(...f),
    down() {
      listener?.stop(true);
      listener = undefined;
      for (const c of [...open]) closeBoth(c, true);
    },
    up: () => listen(),
    dropIdle() {
      for (const c of [...open]) if (!c.fault) closeBoth(c, false);
    },
    stop() {
      listener?.stop(true);
      for (const c of [...open]) closeBoth(c, true);
    },
  };
}
