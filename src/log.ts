/** The process logger: consola, with levels named like RUST_LOG's and an optional JSON format. */
import { createConsola, type ConsolaInstance, type LogObject } from "consola";

export type LogLevel = "error" | "warn" | "info" | "debug" | "trace";
export type LogFormat = "pretty" | "json";

const CONSOLA_LEVEL: Record<LogLevel, number> = { error: 0, warn: 1, info: 3, debug: 4, trace: 5 };
const LEVELS = Object.keys(CONSOLA_LEVEL) as LogLevel[];

/**
 * Accept `info`, `DEBUG`, and RUST_LOG style values (`s3proxy=debug`, `warn,hyper=info`),
 * taking the first level named. Returns undefined when no level can be read.
 */
export function parseLogLevel(value: string): LogLevel | undefined {
  for (const directive of value.toLowerCase().split(",")) {
    const level = directive.split("=").pop()!.trim();
    if (level === "warning") return "warn";
    if ((LEVELS as string[]).includes(level)) return level as LogLevel;
  }
  return undefined;
}

const jsonReporter = {
  log(entry: LogObject) {
    const [first, ...rest] = entry.args;
    const line: Record<string, unknown> = { time: entry.date.toISOString(), level: entry.type };
    if (typeof first === "string") line.msg = first;
    else if (first !== undefined) rest.unshift(first);
    for (const extra of rest) if (extra && typeof extra === "object") Object.assign(line, extra);
    process.stderr.write(JSON.stringify(line) + "\n");
  },
};

export function createLogger(level: LogLevel, format: LogFormat): ConsolaInstance {
  return createConsola({
    level: CONSOLA_LEVEL[level],
    // A server must log every line: consola collapses bursts of identical lines by default.
    throttle: 0,
    ...(format === "json" ? { reporters: [jsonReporter] } : {}),
    formatOptions: { date: true, colors: false, compact: true },
  });
}

export type Logger = ConsolaInstance;
