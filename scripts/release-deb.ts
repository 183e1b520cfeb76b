/** Build the Debian package (.deb) around one compiled Linux binary, with dpkg-deb. */
import { $ } from "bun";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { OPTIONS } from "../src/options.ts";
import { debianCopyright, fillTemplate, renderDefaultFile, renderManPage, rfc2822 } from "./release-render.ts";
import { ROOT, type BuildInfo } from "./release-targets.ts";

export interface DebOptions {
  binary: string;
  arch: "amd64" | "arm64";
  info: BuildInfo;
  outDir: string;
  maintainer: string;
  homepage: string;
  /**
   * gzip reads everywhere (xz took ~5 minutes on the 110 MB binary here); "none" is for the
   * test suite, which installs the package at once and would only burn CPU compressing it.
   */
  compression: "gzip" | "none";
}

const PACKAGING = join(ROOT, "packaging", "deb");

function put(root: string, path: string, content: string | Uint8Array, mode: number): void {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  chmodSync(file, mode);
}

function pathsUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((p) => join(dir, p))
    .sort();
}

function filesUnder(dir: string): string[] {
  return pathsUnder(dir).filter((p) => statSync(p).isFile());
}

/** Returns the path of the .deb written to outDir. */
export async function buildDeb(o: DebOptions): Promise<string> {
  const stage = mkdtempSync(join(tmpdir(), "s3proxy-deb-"));
  // mkdtemp makes 0700; the package root becomes "/" in the archive.
  chmodSync(stage, 0o755);
  try {
    const text = (name: string) => Bun.file(join(PACKAGING, name)).text();
    const values = {
      VERSION: o.info.version,
      COMMIT: o.info.commit,
      ARCH: o.arch,
      MAINTAINER: o.maintainer,
      HOMEPAGE: o.homepage,
      DATE: rfc2822(o.info.date),
    };
    const gz = (s: string) => gzipSync(s, { level: 9 });

    mkdirSync(join(stage, "usr/bin"), { recursive: true });
    copyFileSync(o.binary, join(stage, "usr/bin/s3proxy"));
    chmodSync(join(stage, "usr/bin/s3proxy"), 0o755);
    // /lib, not /usr/lib: Debian 12 keeps units there until the /usr-merge moratorium ends.
    put(stage, "lib/systemd/system/s3proxy.service", await text("s3proxy.service"), 0o644);
    // Root-only: it may hold backend credentials, and systemd reads it as root.
    put(stage, "etc/default/s3proxy", renderDefaultFile(OPTIONS), 0o600);
    put(stage, "usr/share/man/man1/s3proxy.1.gz", gz(renderManPage(OPTIONS, o.info.version, o.info.date)), 0o644);
    put(stage, "usr/share/doc/s3proxy/copyright", debianCopyright(await Bun.file(join(ROOT, "LICENSE")).text(), o.homepage), 0o644);
    put(stage, "usr/share/doc/s3proxy/changelog.gz", gz(fillTemplate(await text("changelog.in"), values)), 0o644);
    put(stage, "usr/share/lintian/overrides/s3proxy", await text("lintian-overrides"), 0o644);

    const payload = filesUnder(stage);
    const sums = await Promise.all(payload.map(async (f) => `${new Bun.CryptoHasher("md5").update(await Bun.file(f).bytes()).digest("hex")}  ${relative(stage, f)}\n`));
    const installedKiB = Math.ceil(payload.reduce((n, f) => n + statSync(f).size, 0) / 1024);

    put(stage, "DEBIAN/control", fillTemplate(await text("control.in"), { ...values, INSTALLED_SIZE: String(installedKiB) }), 0o644);
    put(stage, "DEBIAN/conffiles", "/etc/default/s3proxy\n", 0o644);
    put(stage, "DEBIAN/md5sums", sums.join(""), 0o644);
    for (const script of ["postinst", "prerm", "postrm"]) put(stage, `DEBIAN/${script}`, await text(script), 0o755);

    // Everything dated at the commit, so two builds of one commit give the same package.
    for (const p of [stage, ...pathsUnder(stage)]) utimesSync(p, o.info.date, o.info.date);

    const deb = join(o.outDir, `s3proxy_${o.info.version}_${o.arch}.deb`);
    await $`dpkg-deb --root-owner-group -Z${o.compression} --build ${stage} ${deb}`.env({ ...process.env, SOURCE_DATE_EPOCH: String(o.info.date) }).quiet();
    return deb;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
