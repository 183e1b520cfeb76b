/**
 * The command line: flags and environment into a Config (citty parses), then start the
 * proxy; or `s3proxy healthcheck`. Bad configuration is one clear line on stderr and exit
 * status 2.
 */
import { parseArgs, type ArgsDef } from "citty";
import { startProxy } from "./app.ts";
import { ConfigError, resolveConfig, type Config, type Env, type Flags } from "./config.ts";
import { parseConfigFile, withConfigFile } from "./config-file.ts";
import { defaultHealthcheckUrl, healthcheck } from "./healthcheck.ts";
import { createLogger } from "./log.ts";
import { installGracefulShutdown } from "./ops/shutdown.ts";
import { OPTIONS } from "./options.ts";
import { formatBytes } from "./units.ts";
import { CredentialsError } from "./upstream/credentials.ts";
import { renderHelp, wantColor } from "./usage.ts";
import { VERSION, versionLine } from "./version.ts";

const args: ArgsDef = Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: o.type, ...("alias" in o ? { alias: o.alias } : {}) }]));
args.version = { type: "boolean", alias: "V" };
args.help = { type: "boolean", alias: "h" };

const KNOWN = new Set<string>(Object.entries(args).flatMap(([name, def]) => [name, ...(def.type === "boolean" ? [`no-${name}`] : []), ...[(def as { alias?: string }).alias ?? []].flat()]));
const TAKES_VALUE = new Set<string>(Object.entries(args).flatMap(([name, def]) => (def.type === "string" ? [name, ...[(def as { alias?: string }).alias ?? []].flat()] : [])));

/** The first argument that names no option; the value after a flag that takes one is skipped, so `--port -1` is a bad port, not an unknown option. */
function unknownFlag(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    const m = /^--?([^=]+)(=?)/.exec(a);
    if (!m) continue;
    if (!KNOWN.has(m[1]!)) return a;
    if (!m[2] && TAKES_VALUE.has(m[1]!) && argv[i + 1] !== undefined && !/^--?[a-zA-Z]/.test(argv[i + 1]!)) i++;
  }
  return undefined;
}

export function usageError(message: string): never {
  process.stderr.write(`s3proxy: ${message}\n`);
  process.exit(2);
}

/** `s3proxy healthcheck [--url URL]`: exit 0 when the proxy is ready, 1 when not. */
async function healthcheckCommand(argv: string[], env: Env): Promise<void> {
  const parsed = parseArgs(argv, { url: { type: "string" } });
  const stray = argv.find((a) => a.startsWith("-") && !/^--url(=|$)/.test(a));
  if (stray) usageError(`healthcheck: unknown option ${stray} (it takes only --url)`);
  const url = parsed.url ?? defaultHealthcheckUrl(env);
  if (typeof url !== "string" || !URL.canParse(url)) usageError(`healthcheck: --url: not a URL: "${url}"`);
  const result = await healthcheck(url);
  (result.code === 0 ? process.stdout : process.stderr).write(`s3proxy healthcheck: ${result.line}\n`);
  process.exit(result.code);
}

export async function main(argv: string[], env: Env): Promise<void> {
  if (argv[0] === "healthcheck") return healthcheckCommand(argv.slice(1), env);
  const unknown = unknownFlag(argv);
  if (unknown) usageError(`unknown option ${unknown} (see --help)`);
  const parsed = parseArgs(argv, args);
  if (parsed.help) {
    const tty = process.stdout.isTTY === true;
    // A pipe or file gets 80 columns and no colour; a terminal its own width.
    process.stdout.write(renderHelp(VERSION, { width: tty ? (process.stdout.columns ?? 80) : 80, color: wantColor(tty, env) }) + "\n");
    return;
  }
  if (parsed.version) {
    process.stdout.write(versionLine() + "\n");
    return;
  }
  let flags: Flags = {};
  for (const o of OPTIONS) {
    const v = parsed[o.flag];
    if (v !== undefined) flags[o.flag] = v as string | boolean;
  }
  let config: Config;
  try {
    const file = flags.config ?? (env.S3PROXY_CONFIG || undefined);
    if (file !== undefined) flags = withConfigFile(flags, env, parseConfigFile(await readConfigFile(String(file)), String(file)));
    config = resolveConfig(flags, env);
  } catch (err) {
    if (err instanceof ConfigError) usageError(err.message);
    throw err;
  }
  const log = createLogger(config.logLevel, config.logFormat);
  try {
    const proxy = await startProxy(config, env, log);
    const cache = config.cache.enabled ? `${formatBytes(config.cache.sizeBytes)} in memory` : `off${config.cache.sizeBytes === 0 ? " (--cache-size 0)" : ""}`;
    log.info(`s3proxy ${VERSION} listening on ${proxy.url.href} → ${config.endpoint.href} (credentials: ${proxy.credentialSource}, client auth: ${proxy.authMode}, cache: ${cache})`);
    if (proxy.opsServer) log.info(`metrics, health and status on ${proxy.opsServer.url.href}`);
    installGracefulShutdown({
      drain: (ms) => proxy.drain(ms),
      timeoutMs: config.ops.shutdownTimeoutMs,
      log,
      exit: (code) => process.exit(code),
      onSignal: (signal, listener) => process.on(signal, listener),
      later: (ms, fn) => void setTimeout(fn, ms).unref(),
    });
  } catch (err) {
    if (err instanceof CredentialsError || err instanceof ConfigError) usageError(err.message);
    if (err instanceof Error && /EADDRINUSE|in use/i.test(err.message)) {
      const metricsPort = config.ops.metricsPort;
      if (metricsPort !== undefined && err.message.includes(`port ${metricsPort} `)) usageError(`--metrics-port: ${config.host}:${metricsPort} is already in use`);
      usageError(`--port: ${config.host}:${config.port} is already in use`);
    }
    // An address this machine does not have, or one the kernel refuses to bind.
    if (err instanceof Error && /EADDRNOTAVAIL|EINVAL|EAFNOSUPPORT|ENOTFOUND|EAI_/.test(`${(err as { code?: string }).code} ${err.message}`)) {
      usageError(`--host: cannot listen on ${config.host} (${(err as { code?: string }).code ?? err.message})`);
    }
    throw err;
  }
}

async function readConfigFile(path: string): Promise<string> {
  try {
    return await Bun.file(path).text();
  } catch (err) {
    throw new ConfigError("config", `cannot read ${path} (${(err as { code?: string }).code ?? String(err)})`);
  }
}
