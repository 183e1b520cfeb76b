/**
 * Everything a scenario talks to, each in its own process: the backend (s3rver), the
 * latency relay in front of it, ours (`bun src/main.ts`, so its RSS is its own), the raw
 * Bun.serve ceiling. nginx lives in nginx.ts.
 */
import { join } from "node:path";
import type { RelayStats } from "./latency-relay.ts";
import { describeLink, relayFlags, type LinkShape } from "./link.ts";
import { cleanEnv, freePort, spawnChild, stopProcess, waitForHttp } from "./processes.ts";

const ROOT = join(import.meta.dir, "..", "..");

export interface Peer {
  name: string;
  endpoint: string;
  /** The server's own pid, for /proc readings. */
  pid?: number;
  /** For fetch() to an https peer: the CA its certificate is signed by. */
  tls?: { ca: string };
  stop(): Promise<void>;
}

/** Ours serving HTTPS: its PEM files and the CA that signed them. */
export interface OursTls {
  certFile: string;
  keyFile: string;
  ca: string;
}

export interface Backend extends Peer {
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export async function startBackend(): Promise<Backend> {
  const child = await spawnChild<{ endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string; region: string }>(["bun", join(import.meta.dir, "backend-server.ts")], cleanEnv());
  return { name: "s3rver", ...child.info, pid: child.proc.pid, stop: child.stop };
}

export interface Relay extends Peer {
  stats(): Promise<RelayStats>;
  /** Counters since the last reset, and zero them. */
  reset(): Promise<RelayStats>;
}

/** The latency relay in front of `target`, shaped as `link`. */
export async function startRelay(target: string, link: LinkShape): Promise<Relay> {
  const url = new URL(target);
  const args = ["--target", `${url.hostname}:${url.port}`, ...relayFlags(link)];
  const child = await spawnChild<{ port: number }>(["bun", join(import.meta.dir, "latency-relay.ts"), ...args]);
  return {
    name: `relay (${describeLink(link)})`,
    endpoint: `http://127.0.0.1:${child.info.port}`,
    pid: child.proc.pid,
    stats: () => child.ask<RelayStats>("stats"),
    reset: () => child.ask<RelayStats>("reset"),
    stop: child.stop,
  };
}

/** Client keys of ours when a scenario asks for authentication (`authFlags`). */
export const BENCH_CLIENT = { accessKeyId: "BENCHCLIENT", secretAccessKey: "bench-client-secret", region: "us-east-1" };
export const AUTH_FLAGS = ["--auth", "sigv4", "--client-keys-inline", `${BENCH_CLIENT.accessKeyId}:${BENCH_CLIENT.secretAccessKey}`];

/**
 * Ours as a separate process; `flags` are s3proxy flags (e.g. ["--block-size", "1MiB"]).
 * Client authentication is off (`--auth none`, the figure compared with nginx, which checks
 * nothing) unless the flags name it (AUTH_FLAGS).
 */
export async function startOurs(upstream: string, backend: Pick<Backend, "accessKeyId" | "secretAccessKey">, flags: string[] = [], name = "ours", tls?: OursTls): Promise<Peer> {
  const port = freePort();
  const auth = flags.includes("--auth") ? [] : ["--auth", "none"];
  const tlsFlags = tls ? ["--tls-cert", tls.certFile, "--tls-key", tls.keyFile] : [];
  const cmd = ["bun", join(ROOT, "src", "main.ts"), "--endpoint", upstream, "--host", "127.0.0.1", "--port", String(port), "--log-level", "warn", ...auth, ...tlsFlags, ...flags];
  let stopping = false;
  const proc = Bun.spawn(cmd, {
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
    env: cleanEnv({ AWS_ACCESS_KEY_ID: backend.accessKeyId, AWS_SECRET_ACCESS_KEY: backend.secretAccessKey }),
    onExit: (_, code, signal) => {
      if (!stopping) console.error(`bench: ${name} (pid ${proc.pid}) exited unexpectedly: code ${code}, signal ${signal}`);
    },
  });
  const endpoint = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  const peerTls = tls ? { ca: tls.ca } : undefined;
  try {
    await waitForHttp(endpoint, undefined, peerTls);
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  const stop = () => {
    stopping = true; // the exit that follows is expected
    return stopProcess(proc);
  };
  return { name, endpoint, pid: proc.pid, tls: peerTls, stop };
}

export async function startRaw(): Promise<Peer> {
  const child = await spawnChild<{ port: number }>(["bun", join(import.meta.dir, "raw-server.ts")]);
  return { name: "raw Bun.serve", endpoint: `http://127.0.0.1:${child.info.port}`, pid: child.proc.pid, stop: child.stop };
}

/** A bare Bun forwarding hop in front of `upstream` (raw-hop.ts): the floor for any Bun proxy's miss. */
export async function startRawHop(upstream: string): Promise<Peer> {
  const child = await spawnChild<{ port: number }>(["bun", join(import.meta.dir, "raw-hop.ts"), upstream]);
  return { name: "raw Bun hop", endpoint: `http://127.0.0.1:${child.info.port}`, pid: child.proc.pid, stop: child.stop };
}

/** Stop every peer given, ignoring the absent ones. */
export async function stopAll(...peers: (Peer | undefined)[]): Promise<void> {
  await Promise.all(peers.map((p) => p?.stop()));
}
