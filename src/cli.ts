/**
 * The command line: flags and environment into a Config (citty for parsing and usage),
 * then start the proxy. Bad configuration is one clear line on stderr and exit status 2.
 */
import { defineCommand, parseArgs, renderUsage, type ArgsDef } from "citty";
import { startProxy } from "./app.ts";
import { ConfigError, resolveConfig, type Env, type Flags } from "./config.ts";
import { parseConfigFile, withConfigFile } from "./config-file.ts";
import { createLogger } from "./log.ts";
import { installGracefulShutdown } from "./ops/shutdown.ts";
import { OPTIONS } from "./options.ts";
import { CredentialsError } from "./upstream/credentials.ts";
import { VERSION, versionLine } from "./version.ts";

function describe(o: (typeof OPTIONS)[number]): string {
  const env = o.env.length ? ` [env: ${o.env.join(", ")}]` : "";
  const def = "default" in o ? ` [default: ${o.default}]` : "";
  return `${o.description}${env}${def}`;
}

const args: ArgsDef = Object.fromEntries(
  OPTIONS.map((o) => [o.flag, { type: o.type, description: describe(o), ...("alias" in o ? { alias: o.alias } : {}) }]),
);
args.version = { type: "boolean", alias: "V", description: "Print the version and exit" };
args.help = { type: "boolean", alias: "h", description: "Show this help" };

export const command = defineCommand({
  meta: { name: "s3proxy", version: VERSION, description: "A fast, S3-compatible caching proxy for analytics engines" },
  args,
});

const KNOWN = new Set<string>(Object.entries(args).flatMap(([name, def]) => [name, ...(def.type === "boolean" ? [`no-${name}`] : []), ...[(def as { alias?: string }).alias ?? []].flat()]));

function unknownFlag(argv: string[]): string | undefined {
  for (const a of argv) {
    if (a === "--") break;
    const m = /^--?([^=]+)/.exec(a);
    if (m && !KNOWN.has(m[1]!)) return a;
  }
  return undefined;
}

export function usageError(message: string): never {
  process.stderr.write(`s3proxy: ${message}\n`);
  process.exit(2);
}

export async function main(argv: string[], env: Env): Promise<void> {
  const unknown = unknownFlag(argv);
  if (unknown) usageError(`unknown option ${unknown} (see --help)`);
  const parsed = parseArgs(argv, args);
  if (parsed.help) {
    process.stdout.write((await renderUsage(command)) + "\n");
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
  let config;
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
    log.info(`s3proxy ${VERSION} listening on ${proxy.url.href} → ${config.endpoint.href} (credentials: ${proxy.credentialSource}, client auth: ${proxy.authMode})`);
    if (proxy.opsServer) log.info(`metrics, health and status on ${proxy.opsServer.url.href}`);
    installGracefulShutdown({
      drain: (ms) => proxy.drain(ms),
      timeoutMs: config.ops.shutdownTimeoutMs,
      log,
      exit: (code) => process.exit(code),
      onSignal: (signal, listener) => process.on(signal, listener),
    });
  } catch (err) {
    if (err instanceof CredentialsError || err instanceof ConfigError) usageError(err.message);
    if (err instanceof Error && /EADDRINUSE|in use/i.test(err.message)) {
      const metricsPort = config.ops.metricsPort;
      if (metricsPort !== undefined && err.message.includes(`port ${metricsPort} `)) usageError(`--metrics-port: ${config.host}:${metricsPort} is already in use`);
      usageError(`--port: ${config.host}:${config.port} is already in use`);
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
