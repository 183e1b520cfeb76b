/**
 * Resolve the proxy's configuration from parsed flags and the environment (flag > env >
 * default), validate every value, and fail with a ConfigError naming the option. The
 * environment is passed in: nothing here reads process.env.
 */
import { AUTH_MODES, type AuthMode } from "./auth/authenticate.ts";
import { ClientKeysError, parseClientKeysList, type ClientKey } from "./auth/client-keys.ts";
import { parseLogLevel, type LogFormat, type LogLevel } from "./log.ts";
import { OPTIONS, type OptionName } from "./options.ts";
import { isIPv6 } from "node:net";
import { formatBytes, parseBytes, parseDuration } from "./units.ts";
import { parseClusterSeeds, type ClusterSeed } from "./cache/redis-cluster.ts";

export interface CacheConfig {
  enabled: boolean;
  sizeBytes: number;
  blockSize: number;
  maxObjectSize: number;
  metaTtlMs: number;
  negativeTtlMs: number;
  prefetch: boolean;
  /** The disk tier's directory, when there is one. */
  dir?: string;
  diskSizeBytes: number;
  /** The shared Redis/Valkey tier on one server, when there is one. */
  redisUrl?: string;
  /** The shared tier on a cluster: its seed nodes. */
  redisCluster?: { seeds: ClusterSeed[]; tls: boolean };
  /** AUTH for either, from REDIS_USERNAME / REDIS_PASSWORD (environment only: a flag would show in `ps`). */
  redisAuth: { username?: string; password?: string };
  serveStaleOnError: boolean;
  hedgeAfter: number | "auto" | undefined;
}

export interface LimitsConfig {
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  retries: number;
  maxUpstream: number;
  maxInflight: number;
}

export interface AuthConfig {
  /** Undefined: chosen at start-up from what is configured (see app.ts). */
  mode?: AuthMode;
  clientKeysFile?: string;
  clientKeys: ClientKey[];
  regions: string[];
  stsEndpoint: URL;
  roleArn?: string;
  /** web-identity: accept tokens over plain HTTP on a non-loopback listener. */
  allowInsecureTokens: boolean;
}

/** PEM files served on --port; undefined means plain HTTP. */
export interface TlsConfig {
  certFile: string;
  keyFile: string;
}

export interface OpsConfig {
  /** A separate port for metrics, health and status; undefined serves them on the main port. */
  metricsPort?: number;
  metricsPath: string;
  shutdownTimeoutMs: number;
}

export interface Config {
  endpoint: URL;
  port: number;
  host: string;
  tls?: TlsConfig;
  region: string;
  domains: string[];
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** One access-log line per this many successful cache hits (1: every hit; Infinity: none). */
  accessLogHitsPerLine: number;
  cache: CacheConfig;
  auth: AuthConfig;
  limits: LimitsConfig;
  ops: OpsConfig;
}

export class ConfigError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`--${option}: ${message}`);
    this.name = "ConfigError";
  }
}

export type Env = Record<string, string | undefined>;
export type Flags = Partial<Record<OptionName, string | boolean | undefined>>;

/** The raw value of an option: the flag, else the first set environment variable, else the default. */
function raw(name: OptionName, flags: Flags, env: Env): string | undefined {
  const flag = flags[name];
  if (flag !== undefined) return String(flag);
  const spec = OPTIONS.find((o) => o.flag === name)!;
  for (const variable of spec.env) {
    const value = env[variable];
    if (value !== undefined && value !== "") return value;
  }
  return "default" in spec ? spec.default : undefined;
}

function bool(name: OptionName, flags: Flags, env: Env): boolean {
  const value = raw(name, flags, env)!.toLowerCase();
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off"].includes(value)) return false;
  throw new ConfigError(name, `expected true or false, got "${value}"`);
}

function bytes(name: OptionName, value: string, min: number): number {
  const n = parseBytes(value);
  if (n === undefined || n < min) throw new ConfigError(name, `expected a size such as 512MiB, got "${value}"`);
  return n;
}

function url(name: OptionName, value: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `not a URL: "${value}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new ConfigError(name, `must be http:// or https://, got "${value}"`);
  return parsed;
}

function resolveAuth(flags: Flags, env: Env, region: string): AuthConfig {
  const modeText = raw("auth", flags, env);
  if (modeText !== undefined && !(AUTH_MODES as readonly string[]).includes(modeText)) {
    throw new ConfigError("auth", `expected ${AUTH_MODES.join(", ")}, got "${modeText}"`);
  }
  const mode = modeText as AuthMode | undefined;
  let clientKeys: ClientKey[] = [];
  try {
    clientKeys = parseClientKeysList(raw("client-keys-inline", flags, env) ?? "");
  } catch (err) {
    if (err instanceof ClientKeysError) throw new ConfigError("client-keys-inline", err.message);
    throw err;
  }
  const clientKeysFile = raw("client-keys", flags, env);
  const regions = (raw("auth-regions", flags, env) ?? region)
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  if (regions.length === 0 || regions.some((r) => !/^[a-z0-9-]+$/.test(r))) throw new ConfigError("auth-regions", "expected region names separated by commas");
  const roleArn = raw("role-arn", flags, env);
  if (mode === "sigv4" && clientKeys.length === 0 && clientKeysFile === undefined) {
    throw new ConfigError("auth", "sigv4 needs client keys (--client-keys FILE or CLIENT_KEYS)");
  }
  if (mode === "web-identity" && !roleArn) throw new ConfigError("role-arn", "web-identity needs the role to assume");
  return { mode, clientKeysFile, clientKeys, regions, stsEndpoint: url("sts-endpoint", raw("sts-endpoint", flags, env)!), roleArn, allowInsecureTokens: bool("allow-insecure-tokens", flags, env) };
}

function tlsConfig(flags: Flags, env: Env): TlsConfig | undefined {
  const certFile = raw("tls-cert", flags, env);
  const keyFile = raw("tls-key", flags, env);
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (keyFile === undefined) throw new ConfigError("tls-key", "--tls-cert needs the key file too");
  if (certFile === undefined) throw new ConfigError("tls-cert", "--tls-key needs the certificate file too");
  return { certFile, keyFile };
}

function count(name: OptionName, flags: Flags, env: Env, min: number): number {
  const value = raw(name, flags, env)!;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min) throw new ConfigError(name, `expected a whole number of at least ${min}, got "${value}"`);
  return n;
}

function portNumber(name: OptionName, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new ConfigError(name, `expected a port number from 0 to 65535 (0: any free port), got "${value}"`);
  return port;
}

/** An IPv4 or IPv6 address or a host name; numbers that only look like an IPv4 address (999.1.1.1) are neither. */
function hostAddress(value: string): string {
  const ipv4 = /^\d+(\.\d+){3}$/.test(value);
  const valid = ipv4 ? value.split(".").every((part) => Number(part) <= 255) : value.includes(":") ? isIPv6(value) : /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/i.test(value);
  if (!valid) throw new ConfigError("host", `expected an IP address or host name to listen on, such as 0.0.0.0 or 127.0.0.1, got "${value}"`);
  return value;
}

function opsConfig(flags: Flags, env: Env): OpsConfig {
  const portText = raw("metrics-port", flags, env);
  const metricsPort = portText === undefined ? undefined : portNumber("metrics-port", portText);
  const metricsPath = raw("metrics-path", flags, env)!;
  if (!metricsPath.startsWith("/")) throw new ConfigError("metrics-path", `must start with /, got "${metricsPath}"`);
  // On the S3 port a path whose first segment could be a bucket name would hide that bucket.
  if (metricsPort === undefined && !metricsPath.startsWith("/_")) {
    throw new ConfigError("metrics-path", `must start with /_ on the main port (or use --metrics-port), got "${metricsPath}"`);
  }
  return { metricsPort, metricsPath, shutdownTimeoutMs: duration("shutdown-timeout", raw("shutdown-timeout", flags, env)!) };
}

function duration(name: OptionName, value: string): number {
  const n = parseDuration(value);
  if (n === undefined) throw new ConfigError(name, `expected a duration such as 60s or 500ms, got "${value}"`);
  return n;
}

function hedgeDelay(value: string): number | "auto" | undefined {
  if (value === "off") return undefined;
  if (value === "auto") return "auto";
  return duration("hedge-after", value);
}

export function resolveConfig(flags: Flags, env: Env): Config {
  const region = raw("region", flags, env)!;
  if (!/^[a-z0-9-]+$/.test(region)) throw new ConfigError("region", `not a region name: "${region}"`);

  const endpointText = raw("endpoint", flags, env) ?? `https://s3.${region}.amazonaws.com`;
  let endpoint: URL;
  try {
    endpoint = new URL(endpointText);
  } catch {
    throw new ConfigError("endpoint", `not a URL: "${endpointText}"`);
  }
  if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:") {
    throw new ConfigError("endpoint", `must be http:// or https://, got "${endpointText}"`);
  }
  if (endpoint.search || endpoint.hash || endpoint.username || endpoint.password) {
    throw new ConfigError("endpoint", "must not carry a query, fragment or user info");
  }

  const port = portNumber("port", raw("port", flags, env)!);

  const logLevelText = raw("log-level", flags, env)!;
  const logLevel = parseLogLevel(logLevelText);
  if (!logLevel) throw new ConfigError("log-level", `expected error, warn, info, debug or trace, got "${logLevelText}"`);
  const logFormat = raw("log-format", flags, env)!;
  if (logFormat !== "pretty" && logFormat !== "json") throw new ConfigError("log-format", `expected pretty or json, got "${logFormat}"`);
  const sampleText = raw("access-log-sample", flags, env)!;
  const sample = /^(0|1|0?\.\d+|1\.0*)$/.test(sampleText) ? Number(sampleText) : NaN;
  if (!(sample >= 0 && sample <= 1)) throw new ConfigError("access-log-sample", `expected a share from 0 to 1 (0.1: one hit in ten), got "${sampleText}"`);

  const sizeBytes = bytes("cache-size", raw("cache-size", flags, env)!, 0);
  const blockSize = bytes("block-size", raw("block-size", flags, env)!, 4096);
  if (blockSize > 64 * 1024 ** 2) throw new ConfigError("block-size", "must be at most 64MiB");
  const cacheOn = bool("cache", flags, env) && sizeBytes > 0;
  // A cache smaller than one block could hold nothing it fetches.
  if (cacheOn && blockSize > sizeBytes) {
    throw new ConfigError("block-size", `${formatBytes(blockSize)} is larger than --cache-size ${formatBytes(sizeBytes)}, so no block would fit; lower --block-size or raise --cache-size (0 turns the cache off)`);
  }
  const maxObjectText = raw("max-object-size", flags, env);
  const maxObjectSize = maxObjectText === undefined ? Math.floor(sizeBytes / 8) : bytes("max-object-size", maxObjectText, 0);

  const redisUrl = raw("redis-url", flags, env);
  if (redisUrl !== undefined && !/^(redis|rediss|valkey|valkeys):\/\/[^/]/.test(redisUrl)) {
    throw new ConfigError("redis-url", `expected redis://host:port or rediss://…, got "${redisUrl}"`);
  }
  const redisClusterText = raw("redis-cluster", flags, env);
  const redisCluster = redisClusterText === undefined ? undefined : parseClusterSeeds(redisClusterText);
  if (redisClusterText !== undefined && !redisCluster) {
    throw new ConfigError("redis-cluster", "expected host:port,host:port, all rediss:// or none (the value is not repeated here: credentials belong in REDIS_USERNAME and REDIS_PASSWORD, not in it)");
  }
  if (redisUrl !== undefined && redisCluster) throw new ConfigError("redis-cluster", "give --redis-url (one server) or --redis-cluster (seed nodes), not both");

  return {
    endpoint,
    port,
    host: hostAddress(raw("host", flags, env)!),
    tls: tlsConfig(flags, env),
    region,
    domains: (raw("domain", flags, env) ?? "")
      .split(",")
      .map((d) => d.trim().toLowerCase())
      .filter(Boolean),
    logLevel,
    logFormat,
    accessLogHitsPerLine: sample === 0 ? Infinity : Math.round(1 / sample),
    cache: {
      enabled: cacheOn,
      sizeBytes,
      blockSize,
      maxObjectSize,
      metaTtlMs: duration("meta-ttl", raw("meta-ttl", flags, env)!),
      negativeTtlMs: duration("negative-ttl", raw("negative-ttl", flags, env)!),
      prefetch: bool("prefetch", flags, env),
      dir: raw("cache-dir", flags, env) || undefined,
      diskSizeBytes: bytes("disk-cache-size", raw("disk-cache-size", flags, env)!, 1024 ** 2),
      redisUrl,
      redisCluster,
      redisAuth: { username: env.REDIS_USERNAME || undefined, password: env.REDIS_PASSWORD || undefined },
      serveStaleOnError: bool("serve-stale-on-error", flags, env),
      hedgeAfter: hedgeDelay(raw("hedge-after", flags, env)!),
    },
    limits: {
      firstByteTimeoutMs: duration("first-byte-timeout", raw("first-byte-timeout", flags, env)!),
      idleTimeoutMs: duration("idle-timeout", raw("idle-timeout", flags, env)!),
      retries: count("retries", flags, env, 1),
      maxUpstream: count("max-upstream", flags, env, 1),
      maxInflight: count("max-inflight", flags, env, 1),
    },
    auth: resolveAuth(flags, env, region),
    ops: opsConfig(flags, env),
  };
}
