/**
 * --help and the README's options table, both rendered from the option table (options.ts).
 * Pure: the caller says how wide the terminal is and whether to colour.
 */
import { READY_PATH } from "./ops/routes.ts";
import { OPTIONS, shownDefault, type OptionSpec } from "./options.ts";

export interface HelpStyle {
  /** Columns to fit; lines are wrapped at spaces. */
  width: number;
  color: boolean;
}

/** The flags that are not options of the proxy (no environment variable, no config key). */
const EXTRA_FLAGS = [
  { flag: "version", alias: "V", description: "Print the version and commit, and exit" },
  { flag: "help", alias: "h", description: "Show this help" },
];

/**
 * Colour only for a terminal, unless NO_COLOR (any value, https://no-color.org) or
 * FORCE_COLOR (any value but 0) says otherwise; NO_COLOR wins.
 */
export function wantColor(isTTY: boolean, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "") return env.FORCE_COLOR !== "0";
  return isTTY;
}

/** Words of `text` in lines of at most `width` columns (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function flagSpelling(o: Pick<OptionSpec, "flag" | "alias"> & { type?: string }): string {
  const alias = o.alias ? `-${o.alias}, ` : "";
  if (o.type === "boolean") return `${alias}--${o.flag}, --no-${o.flag}`;
  return `${alias}--${o.flag}${o.type === "string" ? " <value>" : ""}`;
}

export function renderHelp(version: string, style: HelpStyle): string {
  const bold = (s: string) => (style.color ? `\x1b[1m${s}\x1b[22m` : s);
  const indent = "      ";
  const body = Math.max(20, style.width - indent.length);
  const out = [
    ...wrap(`s3proxy ${version}: a fast, S3-compatible caching proxy for analytics engines`, style.width),
    "",
    `${bold("Usage:")} s3proxy [options]`,
    "       s3proxy healthcheck [--url <url>]",
    "",
    ...wrap("Every option is also an environment variable and a key of the --config file (flag > env > file > default).", style.width),
    ...wrap(`healthcheck asks a running proxy's ${READY_PATH} (by default on 127.0.0.1 at METRICS_PORT, else PORT, else 3000) and exits 0 when it is ready, 1 when not.`, style.width),
    "",
    bold("Options:"),
  ];
  for (const o of [...OPTIONS, ...EXTRA_FLAGS] as readonly (OptionSpec | (typeof EXTRA_FLAGS)[number])[]) {
    out.push(`  ${bold(flagSpelling(o))}`);
    const facts = [o.description + "."];
    if ("env" in o) {
      if (o.env.length) facts.push(`[env: ${o.env.join(", ")}]`);
      const shown = shownDefault(o);
      if (shown !== undefined) facts.push(`[default: ${shown}]`);
    }
    out.push(...wrap(facts.join(" "), body).map((l) => indent + l));
  }
  return out.join("\n");
}

function cell(text: string): string {
  // A `|` ends a cell and `<word>` reads as an HTML tag in Markdown.
  return text.replaceAll("|", "\\|").replaceAll("<", "&lt;");
}

/** The README's options table: one row per option, in the order of --help. */
export function optionsMarkdown(): string {
  const rows = OPTIONS.map((o: OptionSpec) => {
    const flag = o.type === "boolean" ? `\`--${o.flag}\` / \`--no-${o.flag}\`` : `\`--${o.flag}${o.alias ? `, -${o.alias}` : ""}\``;
    // A value is code; a derived default ("1/8 of --cache-size") is prose.
    const shown = o.default !== undefined ? `\`${o.default}\`` : cell(o.defaultText ?? "");
    return `| ${flag} | ${o.env.map((e) => `\`${e}\``).join(", ")} | ${shown} | ${cell(o.description)} |`;
  });
  return ["| flag | env | default | meaning |", "|---|---|---|---|", ...rows].join("\n");
}
