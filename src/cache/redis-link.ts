/**
 * How the shared tier reaches Redis: one node (Bun's built-in client, redis-node.ts) or a
 * cluster (ioredis, redis-cluster.ts). The tier's logic (keys, values, counters, bounds)
 * is the same over either; a link owns connections, routing and per-server failure.
 */
import type { TierCounters, TierLog } from "./tier.ts";

/** The commands the tier sends, with the argument types both clients accept. */
export interface RedisCommands {
  getBuffer(key: string): Promise<Uint8Array | null>;
  get(key: string): Promise<string | null>;
  /** SET key value PX ttlMs. */
  setPx(key: string, value: string | Uint8Array, ttlMs: number): Promise<unknown>;
  del(key: string): Promise<unknown>;
}

export interface RedisLink {
  /** Run `op` against the server holding `key`, within the timeout; undefined when that server is down, slow or failing. */
  call<T>(key: string, op: (c: RedisCommands) => Promise<T>): Promise<T | undefined>;
  /** Publish to every proxy listening on `channel`; false when it could not be sent. */
  publish(channel: string, message: string): Promise<boolean>;
  /** Hear `channel` (from now on, and again after every reconnection). */
  subscribe(channel: string, onMessage: (message: string) => void): void;
  /** First connection; a server that is down is a warning, not an error (the link keeps trying). */
  connect(): Promise<void>;
  close(): Promise<void>;
}

/** What every link is built with. */
export interface LinkOptions {
  username?: string;
  password?: string;
  timeoutMs: number;
  retryAfterMs: number;
  counters: TierCounters;
  log: TierLog;
  now: () => number;
}

/** Connecting happens beside the requests (they miss meanwhile), so it may take longer than a call. */
export const CONNECT_TIMEOUT_MS = 2000;

export const CHANNEL_CONSEQUENCE = "writes through other proxies reach this one only through the meta TTL until it recovers";
