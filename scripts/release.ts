/**
 * `bun run release`: every release artefact into dist/, each one checked.
 *
 *   dist/bin/<target>/s3proxy                 compiled binaries (format checked from magic bytes)
 *   dist/s3proxy-<version>-<target>.tar.gz    binary + README.md + LICENSE
 *   dist/s3proxy_<version>_<arch>.deb         amd64 and arm64 (dpkg-deb --info/--contents, lintian)
 *   dist/s3proxy.rb                           Homebrew formula with the archives' checksums
 *   dist/docker/<arch>/s3proxy                build context of the Dockerfile
 *   dist/SHA256SUMS                           archives and packages (verified with sha256sum -c)
 */
import { $ } from "bun";
import { linkSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { buildDeb } from "./release-deb.ts";
import { fillTemplate } from "./release-render.ts";
import { buildInfo, compile, releaseMeta, ROOT, TARGETS, type Target } from "./release-targets.ts";
import { binaryFormat, machoIsSigned, parseSha256Sums, renderSha256Sums, type Checksum } from "./release-verify.ts";

const DIST = join(ROOT, "dist");
const info = await buildInfo();
const meta = releaseMeta(info, process.env);
const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
const started = performance.now();

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await work();
  console.log(`  ${label} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return result;
}

function fail(message: string): never {
  console.error(`release: ${message}`);
  process.exit(1);
}

async function sha256(file: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(file).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

async function checkBinary(target: Target, binary: string): Promise<void> {
  const head = await Bun.file(binary)
    .slice(0, 64 * 1024)
    .bytes();
  const format = binaryFormat(head);
  if (format !== target.format) fail(`${binary}: expected ${target.format}, found ${format ?? "an unknown format"}`);
  if (format === "macho-arm64" && !machoIsSigned(head)) fail(`${binary}: Mach-O without a code signature will not run on Apple silicon`);
  // The one target this machine runs: it must say which build it is.
  if (target.name === `${process.platform}-${process.arch}`) {
    const line = (await $`${binary} --version`.text()).trim();
    if (!line.startsWith(`s3proxy ${info.version} (commit ${info.commit}`)) fail(`${binary} --version printed "${line}"`);
  }
}

async function archive(target: Target, binary: string): Promise<string> {
  const name = `s3proxy-${info.version}-${target.name}`;
  const stage = join(DIST, "stage", name);
  mkdirSync(stage, { recursive: true });
  linkSync(binary, join(stage, "s3proxy"));
  for (const doc of ["README.md", "LICENSE"]) linkSync(join(ROOT, doc), join(stage, doc));
  const out = join(DIST, `${name}.tar.gz`);
  // Sorted names, fixed owner and dates, no gzip timestamp: one commit, one archive.
  await $`tar --sort=name --mtime=@${info.date} --owner=0 --group=0 --numeric-owner -C ${join(DIST, "stage")} -cf - ${name} | gzip -n -6 > ${out}`.quiet();
  return out;
}

async function checkDeb(deb: string): Promise<void> {
  const contents = await $`dpkg-deb --contents ${deb}`.text();
  for (const path of ["./usr/bin/s3proxy", "./lib/systemd/system/s3proxy.service", "./etc/default/s3proxy", "./usr/share/doc/s3proxy/copyright"]) {
    if (!contents.includes(` ${path}\n`)) fail(`${deb} lacks ${path}:\n${contents}`);
  }
  const fields = await $`dpkg-deb --field ${deb} Package Version Architecture`.text();
  console.log(fields.trim().replace(/^/gm, "    "));
  if (Bun.which("lintian")) {
    // Every tag lintian finds (informational ones too) is printed; only errors stop the release.
    const lint = await $`lintian --fail-on error --display-info ${deb}`.nothrow().quiet();
    const out = `${lint.stdout}${lint.stderr}`.trim();
    console.log(out ? out.replace(/^/gm, "    lintian: ") : "    lintian: clean");
    if (lint.exitCode !== 0) fail(`lintian reports errors on ${deb}`);
  } else {
    console.log("    lintian: not installed (apt-get install lintian), skipped");
  }
}

rmSync(DIST, { recursive: true, force: true });
mkdirSync(DIST, { recursive: true });
console.log(`s3proxy ${info.version} (commit ${info.commit})`);

const built = new Map<string, string>();
const hashes = new Map<string, number | bigint>();
for (const target of TARGETS) {
  const binary = join(DIST, "bin", target.name, "s3proxy");
  try {
    await timed(`compiled ${target.name}`, () => compile(target, binary, info));
  } catch (err) {
    if (!target.optional) throw err;
    console.log(`  skipped ${target.name} (optional): ${(err as Error).message.split("\n")[0]}`);
    continue;
  }
  await checkBinary(target, binary);
  // An optional variant may come out the very same (Bun 1.4.5's npm x64 runtime is the baseline build): one archive is enough.
  const hash = Bun.hash(readFileSync(binary));
  const twin = [...hashes].find(([, other]) => other === hash)?.[0];
  if (target.optional && twin) {
    console.log(`  skipped ${target.name}: byte-identical to ${twin}`);
    rmSync(dirname(binary), { recursive: true });
    continue;
  }
  hashes.set(target.name, hash);
  built.set(target.name, binary);
}

const sums: Checksum[] = [];
for (const target of TARGETS) {
  const binary = built.get(target.name);
  if (!binary) continue;
  const tarball = await timed(`archived ${target.name}`, () => archive(target, binary));
  sums.push({ file: tarball.slice(DIST.length + 1), sha256: await sha256(tarball) });
  if (target.arch) {
    mkdirSync(join(DIST, "docker", target.arch), { recursive: true });
    linkSync(binary, join(DIST, "docker", target.arch, "s3proxy"));
    const deb = await timed(`packaged ${target.arch}.deb`, () => buildDeb({ binary, arch: target.arch!, info, outDir: DIST, maintainer: meta.maintainer, homepage: meta.homepage, compression: "gzip" }));
    await checkDeb(deb);
    sums.push({ file: deb.slice(DIST.length + 1), sha256: await sha256(deb) });
  }
}
rmSync(join(DIST, "stage"), { recursive: true, force: true });

await Bun.write(join(DIST, "SHA256SUMS"), renderSha256Sums(sums));
// Checked by an independent implementation, as a user would: sha256sum -c.
await $`sha256sum --check --strict --quiet SHA256SUMS`.cwd(DIST);
if (parseSha256Sums(await Bun.file(join(DIST, "SHA256SUMS")).text()).length !== sums.length) fail("SHA256SUMS lost an entry");

const sumOf = (target: string) => sums.find((s) => s.file === `s3proxy-${info.version}-${target}.tar.gz`)?.sha256 ?? fail(`no archive for ${target}`);
const formula = fillTemplate(await Bun.file(join(ROOT, "packaging/homebrew/s3proxy.rb.in")).text(), {
  VERSION: info.version,
  HOMEPAGE: meta.homepage,
  BASE_URL: meta.baseUrl,
  SHA256_DARWIN_ARM64: sumOf("darwin-arm64"),
  SHA256_LINUX_X64: sumOf("linux-x64"),
  SHA256_LINUX_ARM64: sumOf("linux-arm64"),
});
await Bun.write(join(DIST, "s3proxy.rb"), formula);
// Homebrew is not available on Linux build machines; Ruby's own parser at least checks the syntax.
if (Bun.which("ruby")) await $`ruby -c ${join(DIST, "s3proxy.rb")}`.quiet();

console.log(`\nartefacts in dist/ (${((performance.now() - started) / 1000).toFixed(0)} s):`);
for (const [name, binary] of built) console.log(`  bin/${name}/s3proxy  ${mib(statSync(binary).size)}`);
for (const s of sums) console.log(`  ${s.file}  ${mib(statSync(join(DIST, s.file)).size)}`);
console.log("  s3proxy.rb, SHA256SUMS, docker/");
