/** Text the release renders: templates from packaging/, the Debian environment file, copyright and dates. */
import { READY_PATH } from "../src/ops/routes.ts";
import { shownDefault, type OptionSpec } from "../src/options.ts";

/** Replace every `{{NAME}}`; a placeholder without a value is an error, never left in the output. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    return value;
  });
}

/**
 * /etc/default/s3proxy, from the same option table as --help and the README, so the file a
 * package installs names every option the binary it installs understands.
 */
export function renderDefaultFile(options: readonly OptionSpec[]): string {
  const lines = [
    "# Environment of the s3proxy service (systemd EnvironmentFile=/etc/default/s3proxy).",
    "# Uncomment and edit, then: systemctl enable --now s3proxy (first time) or systemctl restart s3proxy.",
    "# This file may hold credentials: it is readable by root only (systemd reads it before",
    "# starting the service as the s3proxy user).",
    "",
    "# Backend credentials, the standard AWS chain (first match wins):",
    "#AWS_ACCESS_KEY_ID=",
    "#AWS_SECRET_ACCESS_KEY=",
    "#AWS_SESSION_TOKEN=",
    "# or a shared credentials file readable by the s3proxy user:",
    "#AWS_SHARED_CREDENTIALS_FILE=/etc/s3proxy/credentials",
    "#AWS_PROFILE=default",
    "# Not on EC2: skip the instance-metadata lookup.",
    "#AWS_EC2_METADATA_DISABLED=true",
  ];
  for (const o of options) {
    const variable = o.env[0];
    if (!variable) continue;
    lines.push("", `# --${o.flag}: ${o.description}`, `#${variable}=${o.default ?? ""}`);
  }
  return lines.join("\n") + "\n";
}

/** debian/copyright (machine-readable format) from the project's MIT LICENSE file. */
export function debianCopyright(license: string, source: string): string {
  const lines = license.trim().split("\n");
  const holderAt = lines.findIndex((l) => /^Copyright \(c\) /i.test(l));
  if (holderAt < 0) throw new Error("LICENSE has no 'Copyright (c)' line");
  const holder = lines[holderAt]!.replace(/^Copyright \(c\) /i, "");
  // Continuation lines of a field are indented by one space; an empty line is " .".
  const text = lines
    .slice(holderAt + 1)
    .join("\n")
    .trim()
    .split("\n")
    .map((l) => (l.trim() === "" ? " ." : ` ${l}`));
  return ["Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/", "Upstream-Name: s3proxy", `Source: ${source}`, "", "Files: *", `Copyright: ${holder}`, "License: Expat", ...text, ""].join("\n");
}

/** RFC 2822 date as Debian changelogs want it: `Wed, 25 Nov 2026 14:00:00 +0000`. */
export function rfc2822(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toUTCString().replace(/GMT$/, "+0000");
}

/** Escape text for roff: backslashes, and a leading `.` or `'` that would read as a request. */
function roff(text: string): string {
  return text
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .replace(/^([.'])/, "\\&$1");
}

/** s3proxy(1), from the option table (the same source as --help and the README). */
export function renderManPage(options: readonly OptionSpec[], version: string, epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000).toISOString().slice(0, 10);
  const lines = [
    `.TH S3PROXY 1 "${date}" "s3proxy ${version}" "User Commands"`,
    ".SH NAME",
    "s3proxy \\- fast S3\\-compatible caching proxy for analytics engines",
    ".SH SYNOPSIS",
    ".B s3proxy",
    "[\\fIOPTIONS\\fR]",
    ".SH DESCRIPTION",
    "s3proxy forwards every S3 operation to one S3\\-compatible backend, re\\-signed with the",
    "backend's credentials (AWS Signature V4), and caches object metadata and byte ranges in memory.",
    "Every option can be given as a flag or an environment variable; the flag wins.",
    ".SH OPTIONS",
  ];
  for (const o of options) {
    const alias = o.alias ? `\\fB\\-${o.alias}\\fR, ` : "";
    const value = o.type === "string" ? " \\fIvalue\\fR" : "";
    const env = o.env.length ? ` Environment: ${o.env.map((e) => `\\fB${roff(e)}\\fR`).join(", ")}.` : "";
    const shown = shownDefault(o);
    const def = shown !== undefined ? ` Default: ${roff(shown)}.` : "";
    lines.push(".TP", `${alias}\\fB\\-\\-${roff(o.flag)}\\fR${value}`, `${roff(o.description)}.${env}${def}`);
  }
  lines.push(
    ".TP",
    "\\fB\\-V\\fR, \\fB\\-\\-version\\fR",
    "Print the version, commit and runtime, and exit.",
    ".TP",
    "\\fB\\-h\\fR, \\fB\\-\\-help\\fR",
    "Show the options and exit.",
    ".TP",
    "\\fBs3proxy healthcheck\\fR [\\fB\\-\\-url\\fR \\fIURL\\fR]",
    `Ask a running proxy's ${roff(READY_PATH)} (by default on 127.0.0.1 at \\fBMETRICS_PORT\\fR, else \\fBPORT\\fR, else 3000) and exit 0 when it is ready, 1 when not.`,
    ".SH ENVIRONMENT",
    "Backend credentials come from the standard AWS chain: \\fBAWS_ACCESS_KEY_ID\\fR and \\fBAWS_SECRET_ACCESS_KEY\\fR,",
    "the shared credentials and config files, container credentials, then the EC2 instance profile",
    "(skipped with \\fBAWS_EC2_METADATA_DISABLED=true\\fR).",
    ".SH FILES",
    ".TP",
    "\\fI/etc/default/s3proxy\\fR",
    "Environment of the systemd service \\fBs3proxy.service\\fR.",
    ".SH EXIT STATUS",
    "2 for bad configuration (one line on standard error names the option), 1 for any other failure to start.",
  );
  return lines.join("\n") + "\n";
}
