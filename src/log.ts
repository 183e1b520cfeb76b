/**
 * The process logger: consola, with levels named like RUST_LOG's and two formats of our own
 * (pretty lines and JSON). Built on `consola/core`: its default entry loads fancy reporters
 * that cost ~35 ms of start-up and are of no use to a server.
 */
import { createConsola, type ConsolaInstance, type ConsolaReporter, type LogObject } from "consola/core";

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

/** Keys consola itself puts on a log entry; any other key is a field the caller logged. */
const CONSOLA_KEYS = new Set(["date", "args", "level", "type", "tag"]);

/**
 * The structured fields of an entry: `log.info({ message, status, ms })` lands them on the
 * entry itself (consola merges a log object in), extra objects among the args add more.
 */
function fieldsOf(entry: LogObject): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) if (!CONSOLA_KEYS.has(key) && value !== undefined) fields[key] = value;
  for (const arg of entry.args.slice(1)) if (arg && typeof arg === "object" && !(arg instanceof Error)) Object.assign(fields, arg);
  return fields;
}

/** Message args without the field objects (those are rendered as fields). */
function messageArgs(entry: LogObject): unknown[] {
  return entry.args.filter((arg, i) => i === 0 || !arg || typeof arg !== "object" || arg instanceof Error);
}

const jsonReporter: ConsolaReporter = {
  log(entry) {
    const [first, ...rest] = messageArgs(entry);
    const line: Record<string, unknown> = { time: entry.date.toISOString(), level: entry.type };
    if (typeof first === "string") line.msg = first;
    else if (first !== undefined) rest.unshift(first);
    for (const extra of rest) if (extra instanceof Error) line.error = extra.message;
    Object.assign(line, fieldsOf(entry));
    process.stderr.write(JSON.stringify(line) + "\n");
  },
};

/** `2026-11-25T14:00:00.000Z [info] message key=value …`, errors with their stack. */
const prettyReporter: ConsolaReporter = {
  log(entry) {
    const text = messageArgs(entry).map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === "string" ? a : JSON.stringify(a)));
    const pairs = Object.entries(fieldsOf(entry)).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
    process.stderr.write(`${entry.date.toISOString()} [${entry.type}] ${[...text, ...pairs].join(" ")}\n`);
  },
};

export function createLogger(level: LogLevel, format: LogFormat): ConsolaInstance {
  const log = createConsola({
    level: CONSOLA_LEVEL[level],
    // A server must log every line: consola collapses bursts of identical lines by default.
    throttle: 0,
    reporters: [format === "json" ? jsonReporter : prettyReporter],
  });
  return log;
}

export type Logger = ConsolaInstance;
