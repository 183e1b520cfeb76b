/**
 * Every command-line option in one table: flag, alias, environment variables, default and
 * meaning. The CLI's --help, the resolution in config.ts and the README's options table all
 * come from here, so they cannot drift apart.
 */

export interface OptionSpec {
  /** Long flag without dashes; also the config key. */
  flag: string;
  alias?: string;
  /** Environment variables consulted in order when the flag is absent. */
  env: readonly string[];
  type: "string" | "boolean";
  /** The value used when the option is not given; undefined when it is derived or optional. */
  default?: string;
  /** What an option without a `default` amounts to when absent (shown, never parsed). */
  defaultText?: string;
  /** One sentence, no `|` (it would split the README's table). */
  description: string;
}

/** The default as --help, the README and the man page state it. */
export function shownDefault(o: OptionSpec): string | undefined {
  return o.default ?? o.defaultText;
}

export const OPTIONS = [
  { flag: "endpoint", alias: "e", env: ["ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"], type: "string", defaultText: "https://s3.<region>.amazonaws.com", description: "Backend S3 URL (http or https, optional port and base path)" },
  { flag: "port", alias: "p", env: ["PORT"], type: "string", default: "3000", description: "Port to listen on" },
  { flag: "host", env: ["HOST"], type: "string", default: "0.0.0.0", description: "Address to listen on" },
  { flag: "tls-cert", env: ["TLS_CERT"], type: "string", description: "PEM certificate file (the server's certificate first, then any chain): serve HTTPS on --port. Needs --tls-key; both re-read on SIGHUP" },
  { flag: "tls-key", env: ["TLS_KEY"], type: "string", description: "PEM private key file (unencrypted) of --tls-cert" },
  { flag: "region", env: ["AWS_REGION", "AWS_DEFAULT_REGION"], type: "string", default: "us-east-1", description: "Region used to sign backend requests" },
  { flag: "domain", env: ["S3PROXY_DOMAIN"], type: "string", description: "The proxy's own host name(s), comma-separated, for virtual-hosted-style requests (bucket.<domain>)" },
  { flag: "log-level", env: ["LOG_LEVEL", "RUST_LOG"], type: "string", default: "info", description: "error, warn, info, debug or trace (RUST_LOG style values such as s3proxy=debug work)" },
  { flag: "log-format", env: ["LOG_FORMAT"], type: "string", default: "pretty", description: "pretty or json (the access log too)" },
  {
    flag: "access-log-sample",
    env: ["ACCESS_LOG_SAMPLE"],
    type: "string",
    default: "1",
    description: "Share of cache hits written to the access log, 0 to 1 (misses, writes, errors and refusals are always written); a sampled line carries sample=N, the hits it stands for",
  },
  { flag: "auth", env: ["AUTH_MODE"], type: "string", defaultText: "sigv4 with client keys, else passthrough", description: "Client authentication: sigv4, passthrough, web-identity or none (passthrough needs backend credentials)" },
  { flag: "client-keys", env: ["CLIENT_KEYS_FILE"], type: "string", description: "File of client keys for sigv4 mode, one 'ACCESS_KEY_ID SECRET [bucket,bucket...]' per line (# comments); reloaded on SIGHUP" },
  { flag: "client-keys-inline", env: ["CLIENT_KEYS"], type: "string", description: "Client keys for sigv4 mode inline: 'AKID:SECRET[:bucket+bucket],...'" },
  { flag: "auth-regions", env: ["AUTH_REGIONS"], type: "string", defaultText: "--region", description: "Regions clients may name in their signatures, comma-separated" },
  { flag: "sts-endpoint", env: ["STS_ENDPOINT", "AWS_ENDPOINT_URL_STS"], type: "string", default: "https://sts.amazonaws.com", description: "STS endpoint for web-identity mode (AssumeRoleWithWebIdentity)" },
  { flag: "role-arn", env: ["ROLE_ARN", "AWS_ROLE_ARN"], type: "string", description: "Role assumed with the client's token in web-identity mode" },
  { flag: "allow-insecure-tokens", env: ["ALLOW_INSECURE_TOKENS"], type: "boolean", default: "false", description: "In web-identity mode, accept tokens over plain HTTP on a non-loopback address (e.g. behind a TLS-terminating load balancer)" },
  { flag: "cache", env: ["CACHE"], type: "boolean", default: "true", description: "Cache HEAD metadata and GET ranges in memory (--no-cache: pure proxy)" },
  { flag: "cache-size", env: ["CACHE_SIZE"], type: "string", default: "512MiB", description: "Memory cache limit in bytes (units: KiB, MiB, GiB, KB, MB, GB); 0 turns the cache off, like --no-cache" },
  { flag: "block-size", env: ["BLOCK_SIZE"], type: "string", default: "256KiB", description: "Cache block size: objects are cached in aligned blocks of this size" },
  { flag: "max-object-size", env: ["MAX_OBJECT_SIZE"], type: "string", defaultText: "1/8 of --cache-size", description: "Largest object whose full (non-range) GET is cached" },
  { flag: "meta-ttl", env: ["META_TTL"], type: "string", default: "60s", description: "How long HEAD metadata is trusted before revalidation (0 disables the metadata cache)" },
  { flag: "negative-ttl", env: ["NEGATIVE_TTL"], type: "string", default: "5s", description: "How long a 404 is remembered" },
  { flag: "cache-dir", env: ["CACHE_DIR"], type: "string", defaultText: "off", description: "Directory for the disk cache tier: blocks and metadata kept across restarts (one proxy per directory)" },
  { flag: "disk-cache-size", env: ["DISK_CACHE_SIZE"], type: "string", default: "10GiB", description: "Disk cache tier limit in bytes" },
  { flag: "redis-url", env: ["REDIS_URL"], type: "string", defaultText: "off", description: "Redis or Valkey URL (redis://, rediss://) for the cache tier shared by a fleet of proxies" },
  {
    flag: "redis-cluster",
    env: ["REDIS_CLUSTER"],
    type: "string",
    defaultText: "off",
    description: "Redis Cluster or Valkey cluster seed nodes for the shared cache tier, host:port comma-separated (rediss://host:port for TLS); AUTH from REDIS_USERNAME and REDIS_PASSWORD",
  },
  { flag: "prefetch", env: ["PREFETCH"], type: "boolean", default: "true", description: "Prefetch Parquet footers on first touch (--no-prefetch to disable)" },
  { flag: "serve-stale-on-error", env: ["SERVE_STALE_ON_ERROR"], type: "boolean", default: "true", description: "While the backend is unreachable, answer HEADs and cached ranges from expired metadata (x-cache: STALE)" },
  { flag: "hedge-after", env: ["HEDGE_AFTER"], type: "string", default: "off", description: "Send a second identical cache fill when the first takes longer than this (e.g. 200ms), or than the recent p99 (auto)" },
  { flag: "first-byte-timeout", env: ["FIRST_BYTE_TIMEOUT"], type: "string", default: "30s", description: "Longest wait for the backend's response headers (connecting included) before 504" },
  { flag: "idle-timeout", env: ["IDLE_TIMEOUT"], type: "string", default: "30s", description: "Longest pause in a backend response body before it is aborted" },
  { flag: "retries", env: ["RETRIES"], type: "string", default: "3", description: "Attempts for idempotent backend requests (connection errors, timeouts, 500, 503), the first included" },
  { flag: "max-upstream", env: ["MAX_UPSTREAM"], type: "string", default: "256", description: "Most backend requests in flight at once; more wait their turn" },
  { flag: "max-inflight", env: ["MAX_INFLIGHT"], type: "string", default: "4096", description: "Most client requests in progress at once; more get 503 SlowDown" },
  { flag: "config", alias: "c", env: ["S3PROXY_CONFIG"], type: "string", description: "TOML file setting any of these options by flag name (precedence: flag > env > file > default)" },
  { flag: "metrics-port", env: ["METRICS_PORT"], type: "string", defaultText: "the main port", description: "Serve metrics, health and status on this port instead of the main one" },
  { flag: "metrics-path", env: ["METRICS_PATH"], type: "string", default: "/_s3proxy/metrics", description: "Path of the Prometheus metrics (on the main port it must start with /_, which no bucket name can)" },
  { flag: "shutdown-timeout", env: ["SHUTDOWN_TIMEOUT"], type: "string", default: "30s", description: "On SIGTERM/SIGINT, how long in-flight requests may take to finish (a second signal, sent later, exits at once)" },
] as const satisfies readonly OptionSpec[];

export type OptionName = (typeof OPTIONS)[number]["flag"];
