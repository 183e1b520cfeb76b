/** Text the release renders: templates, /etc/default/s3proxy, debian/copyright, the man page, dates. */
import { describe, expect, test } from "bun:test";
import { fillTemplate, debianCopyright, renderDefaultFile, renderManPage, rfc2822 } from "../../scripts/release-render.ts";
import { TARGETS } from "../../scripts/release-targets.ts";
import { OPTIONS } from "../../src/options.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("fillTemplate", () => {
  test("replaces every placeholder, repeated ones included", () => {
    expect(fillTemplate("{{A}}-{{B}}-{{A}}", { A: "1", B: "2", UNUSED: "x" })).toBe("1-2-1");
  });

  test("refuses a placeholder without a value rather than leave it in the output", () => {
    expect(() => fillTemplate("url {{BASE_URL}}", {})).toThrow("{{BASE_URL}}");
  });
});

describe("the Homebrew formula template", () => {
  test("names archives of targets the release builds, and fills completely", async () => {
    const template = await Bun.file(`${ROOT}/packaging/homebrew/s3proxy.rb.in`).text();
    const archives = [...template.matchAll(/s3proxy-\{\{VERSION\}\}-([a-z0-9-]+)\.tar\.gz/g)].map((m) => m[1]);
    expect(archives.sort()).toEqual(["darwin-arm64", "linux-arm64", "linux-x64"]);
    for (const name of archives) expect(TARGETS.some((t) => t.name === name && !t.optional)).toBe(true);
    const filled = fillTemplate(template, { VERSION: "1.2.3", HOMEPAGE: "https://h", BASE_URL: "https://b/v1.2.3", SHA256_DARWIN_ARM64: "d".repeat(64), SHA256_LINUX_X64: "x".repeat(64), SHA256_LINUX_ARM64: "a".repeat(64) });
    expect(filled).toContain(`url "https://b/v1.2.3/s3proxy-1.2.3-darwin-arm64.tar.gz"\n      sha256 "${"d".repeat(64)}"`);
    expect(filled).not.toContain("{{");
  });
});

describe("the Debian package templates", () => {
  test("fill completely from the values the package build supplies", async () => {
    const values = { VERSION: "1.2.3", COMMIT: "abc", ARCH: "arm64", MAINTAINER: "M <m@example.org>", HOMEPAGE: "https://h", DATE: rfc2822(0), INSTALLED_SIZE: "1" };
    for (const name of ["control.in", "changelog.in"]) {
      expect(fillTemplate(await Bun.file(`${ROOT}/packaging/deb/${name}`).text(), values)).not.toContain("{{");
    }
  });
});

describe("renderDefaultFile", () => {
  const text = renderDefaultFile(OPTIONS);

  test("offers every option under the first environment variable the binary reads", () => {
    for (const o of OPTIONS) expect(text).toContain(`\n#${o.env[0]}=${"default" in o ? o.default : ""}\n`);
  });

  test("changes nothing until edited: every line is a comment or blank", () => {
    for (const line of text.split("\n")) expect(line === "" || line.startsWith("#")).toBe(true);
  });
});

describe("debianCopyright", () => {
  test("carries the LICENSE's holder and text in the machine-readable format", async () => {
    const license = await Bun.file(`${ROOT}/LICENSE`).text();
    const text = debianCopyright(license, "https://h");
    expect(text).toStartWith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n");
    expect(text).toContain("\nCopyright: 2026 The s3proxy authors\nLicense: Expat\n Permission is hereby granted");
    // Paragraph breaks inside a field are " .", and no line of the licence text is lost.
    expect(text).toContain("\n .\n The above copyright notice");
    // Every line after "MIT License", a blank, the copyright line and a blank.
    expect(text.match(/^ /gm)!.length).toBe(license.trim().split("\n").length - 4);
  });

  test("refuses a LICENSE without a copyright line", () => {
    expect(() => debianCopyright("MIT License\n\nPermission ...", "https://h")).toThrow("Copyright");
  });
});

describe("renderManPage", () => {
  const page = renderManPage(OPTIONS, "1.2.3", 1_780_000_000);

  test("documents every option with its environment variables", () => {
    for (const o of OPTIONS) {
      expect(page).toContain(`\\fB\\-\\-${o.flag.replaceAll("-", "\\-")}\\fR`);
      for (const e of o.env) expect(page).toContain(`\\fB${e}\\fR`);
    }
  });

  test("has the header man(1) needs and no line a roff reader would take for a request", () => {
    expect(page).toStartWith('.TH S3PROXY 1 "2026-05-28" "s3proxy 1.2.3" "User Commands"\n');
    const requests = page
      .split("\n")
      .filter((l) => l.startsWith("."))
      .map((l) => l.split(" ")[0]);
    expect(new Set(requests)).toEqual(new Set([".TH", ".SH", ".B", ".TP"]));
  });
});

test("rfc2822 formats dates as Debian changelogs require", () => {
  // As `date -u -R -d @1795000000` prints it.
  expect(rfc2822(1_795_000_000)).toBe("Wed, 18 Nov 2026 11:06:40 +0000");
});
