/**
 * The --config file: TOML whose keys are the long flag names (`port = 3000`,
 * `cache-size = "1GiB"`, `prefetch = false`). It sits between the environment and the
 * defaults: flag > env > file > default. Unknown keys and values of the wrong shape are
 * ConfigErrors naming the key. Pure: the caller reads the file.
 */
import { ConfigError, type Env, type Flags } from "./config.ts";
import { OPTIONS, type OptionName } from "./options.ts";

export type FileValues = Partial<Record<OptionName, string | boolean>>;

/** Options that make no sense inside the file itself. */
const NOT_IN_FILE = new Set<string>(["config"]);

export function parseConfigFile(text: string, path: string): FileValues {
  let doc: Record<string, unknown>;
  try {
    doc = Bun.TOML.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError("config", `${path}: not valid TOML (${err instanceof Error ? err.message : String(err)})`);
  }
  const out: FileValues = {};
  for (const [key, value] of Object.entries(doc)) {
    const spec = OPTIONS.find((o) => o.flag === key);
    if (!spec || NOT_IN_FILE.has(key)) throw new ConfigError("config", `${path}: unknown option "${key}"`);
    out[spec.flag] = fileValue(spec.type, value, key, path);
  }
  return out;
}

function fileValue(type: "string" | "boolean", value: unknown, key: string, path: string): string | boolean {
  if (type === "boolean" && typeof value === "boolean") return value;
  if (type === "string") {
    if (typeof value === "string") return value;
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    // A list (e.g. domain = ["a.example", "b.example"]) means what the comma-separated flag means.
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join(",");
  }
  throw new ConfigError("config", `${path}: option "${key}" expects ${type === "boolean" ? "true or false" : "a string or number"}`);
}

/** Fill in the options neither a flag nor the environment set, from the file. */
export function withConfigFile(flags: Flags, env: Env, file: FileValues): Flags {
  const out: Flags = { ...flags };
  for (const o of OPTIONS) {
    const value = file[o.flag];
    if (value === undefined || out[o.flag] !== undefined) continue;
    if (o.env.some((v) => env[v] !== undefined && env[v] !== "")) continue;
    out[o.flag] = value;
  }
  return out;
}
