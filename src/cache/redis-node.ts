/**
 * The link to one Redis or Valkey server, through Bun's built-in client: one connection for
 * commands, one in subscriber mode for invalidations (it can send nothing else). We
 * reconnect ourselves, at most once per retry period, and a command sent while
 * disconnected fails at once instead of queueing.
 */
import { RedisClient, type RedisOptions } from "bun";
import { RedisBreaker } from "./redis-breaker.ts";
import { CHANNEL_CONSEQUENCE, CONNECT_TIMEOUT_MS, type LinkOptions, type RedisCommands, type RedisLink } from "./redis-link.ts";
import { TierHealth } from "./tier.ts";

/** `url` with the credentials from the environment when it names none itself. */
export function withCredentials(url: string, username?: string, password?: string): string {
  if (username === undefined && password === undefined) return url;
  const u = new URL(url);
  if (u.username || u.password) return url;
  if (username) u.username = encodeURIComponent(username);
  if (password) u.password = encodeURIComponent(password);
  return u.href;
}

export class RedisNodeLink implements RedisLink {
  private readonly client: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly breaker: RedisBreaker;
  private readonly channelHealth: TierHealth;
  private readonly commands: RedisCommands;
  private subscription: { channel: string; onMessage: (message: string) => void } | undefined;
  private retryConnectAt = 0;
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(
    url: string,
    private readonly opts: LinkOptions,
  ) {
    const options: RedisOptions = { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: CONNECT_TIMEOUT_MS };
    const full = withCredentials(url, opts.username, opts.password);
    this.client = new RedisClient(full, options);
    this.subscriber = new RedisClient(full, options);
    this.breaker = new RedisBreaker("redis", opts.log, opts.counters, opts.timeoutMs, opts.retryAfterMs, opts.now);
    this.channelHealth = new TierHealth("redis (invalidation channel)", opts.log, opts.counters, CHANNEL_CONSEQUENCE);
    const c = this.client;
    this.commands = {
      getBuffer: (key) => c.getBuffer(key),
      get: (key) => c.get(key),
      setPx: (key, value, ttl) => c.set(key, value, "PX", ttl),
      del: (key) => c.del(key),
    };
  }

  call<T>(_key: string, op: (c: RedisCommands) => Promise<T>): Promise<T | undefined> {
    if (!this.client.connected || !this.subscriber.connected) void this.connect();
    if (!this.client.connected) {
      this.opts.counters.failures++; // a miss because Redis is down: counted, not logged again
      return Promise.resolve(undefined);
    }
    return this.breaker.run(() => op(this.commands));
  }

  async publish(channel: string, message: string): Promise<boolean> {
    return (await this.call(channel, () => this.client.publish(channel, message))) !== undefined;
  }

  subscribe(channel: string, onMessage: (message: string) => void): void {
    this.subscription = { channel, onMessage };
  }

  /**
   * (Re)connect what is down, at most once per retry period. The invalidation channel fails
   * on its own (a server that refuses SUBSCRIBE still serves as a cache; metadata is then
   * only as fresh as the meta TTL), with its own warning.
   */
  connect(): Promise<void> {
    if (this.closed || this.connecting || this.opts.now() < this.retryConnectAt) return this.connecting ?? Promise.resolve();
    this.retryConnectAt = this.opts.now() + this.opts.retryAfterMs;
    this.connecting = (async () => {
      if (!this.client.connected)
        await this.client.connect().then(
          () => this.breaker.ok(),
          (err) => this.breaker.fail(err),
        );
      if (this.client.connected && !this.subscriber.connected && this.subscription) {
        const { channel, onMessage } = this.subscription;
        try {
          await this.subscriber.connect();
          await this.subscriber.subscribe(channel, (message) => onMessage(message));
          this.channelHealth.ok();
        } catch (err) {
          this.channelHealth.failed(err);
        }
      }
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting;
    this.client.close();
    this.subscriber.close();
  }
}
