/** Executable formats from magic bytes and SHA256SUMS, checked against the tools users have (sha256sum). */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaryFormat, machoIsSigned, parseSha256Sums, renderSha256Sums } from "../../scripts/release-verify.ts";

function elf(machine: number, type = 2, cls = 2): Uint8Array {
  const head = new Uint8Array(64);
  head.set([0x7f, 0x45, 0x4c, 0x46, cls, 1, 1]);
  const view = new DataView(head.buffer);
  view.setUint16(16, type, true);
  view.setUint16(18, machine, true);
  return head;
}

/** A 64-bit Mach-O executable header followed by the given load commands (cmd, size). */
function macho(cpu: number, commands: [number, number][] = []): Uint8Array {
  const size = 32 + commands.reduce((n, [, s]) => n + s, 0);
  const head = new Uint8Array(Math.max(size, 64));
  const view = new DataView(head.buffer);
  view.setUint32(0, 0xfeedfacf, true);
  view.setUint32(4, cpu, true);
  view.setUint32(12, 2, true);
  view.setUint32(16, commands.length, true);
  let at = 32;
  for (const [cmd, s] of commands) {
    view.setUint32(at, cmd, true);
    view.setUint32(at + 4, s, true);
    at += s;
  }
  return head;
}

describe("binaryFormat", () => {
  test("tells ELF x86-64 from ELF aarch64, executables and PIEs alike", () => {
    expect(binaryFormat(elf(0x3e))).toBe("elf-x86-64");
    expect(binaryFormat(elf(0xb7))).toBe("elf-aarch64");
    expect(binaryFormat(elf(0x3e, 3))).toBe("elf-x86-64");
  });

  test("rejects other ELF machines, 32-bit ELF and shared objects that are not executables", () => {
    expect(binaryFormat(elf(0x28))).toBeUndefined(); // 32-bit ARM
    expect(binaryFormat(elf(0x3e, 2, 1))).toBeUndefined();
    expect(binaryFormat(elf(0x3e, 1))).toBeUndefined(); // relocatable object
  });

  test("tells Mach-O arm64 from Mach-O x86-64", () => {
    expect(binaryFormat(macho(0x0100000c))).toBe("macho-arm64");
    expect(binaryFormat(macho(0x01000007))).toBe("macho-x86-64");
  });

  test("rejects scripts, empty files and truncated headers", () => {
    expect(binaryFormat(new TextEncoder().encode("#!/bin/sh\necho not a binary at all\n"))).toBeUndefined();
    expect(binaryFormat(new Uint8Array(0))).toBeUndefined();
    expect(binaryFormat(elf(0x3e).slice(0, 19))).toBeUndefined();
  });

  test("reads the binary Bun runs on", async () => {
    const expected = { x64: "elf-x86-64", arm64: "elf-aarch64" }[process.arch as string];
    if (process.platform === "linux" && expected) expect(binaryFormat(await Bun.file(process.execPath).slice(0, 64).bytes())).toBe(expected as never);
  });
});

describe("machoIsSigned", () => {
  test("finds LC_CODE_SIGNATURE after other load commands", () => {
    expect(
      machoIsSigned(
        macho(0x0100000c, [
          [0x19, 72],
          [0x32, 32],
          [0x1d, 16],
        ]),
      ),
    ).toBe(true);
  });

  test("is false without it, for a malformed command size, and for non-Mach-O input", () => {
    expect(
      machoIsSigned(
        macho(0x0100000c, [
          [0x19, 72],
          [0x32, 32],
        ]),
      ),
    ).toBe(false);
    const zeroSized = macho(0x0100000c, [
      [0x19, 72],
      [0x1d, 16],
    ]);
    new DataView(zeroSized.buffer).setUint32(32 + 4, 0, true); // a command of size 0 would loop forever
    expect(machoIsSigned(zeroSized)).toBe(false);
    expect(machoIsSigned(elf(0x3e))).toBe(false);
  });
});

describe("SHA256SUMS", () => {
  test("is sorted by file name and accepted by sha256sum --check --strict", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sha256sums-"));
    try {
      const files = { "s3proxy-1.0.0-linux-x64.tar.gz": "x64 bytes", "s3proxy_1.0.0_amd64.deb": "deb bytes", "s3proxy-1.0.0-darwin-arm64.tar.gz": "" };
      const sums = Object.entries(files).map(([file, content]) => {
        writeFileSync(join(dir, file), content);
        return { file, sha256: new Bun.CryptoHasher("sha256").update(content).digest("hex") };
      });
      const text = renderSha256Sums(sums);
      expect(
        text
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split("  ")[1]),
      ).toEqual(["s3proxy-1.0.0-darwin-arm64.tar.gz", "s3proxy-1.0.0-linux-x64.tar.gz", "s3proxy_1.0.0_amd64.deb"].sort());
      writeFileSync(join(dir, "SHA256SUMS"), text);
      const check = Bun.spawn(["sha256sum", "--check", "--strict", "SHA256SUMS"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
      expect(await check.exited).toBe(0);

      writeFileSync(join(dir, "s3proxy_1.0.0_amd64.deb"), "tampered");
      const tampered = Bun.spawn(["sha256sum", "--check", "--strict", "SHA256SUMS"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
      expect(await tampered.exited).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("parses what it renders, and the binary-mode marker sha256sum may write", () => {
    const sums = [
      { file: "a.tar.gz", sha256: "a".repeat(64) },
      { file: "b c.deb", sha256: "0".repeat(64) },
    ];
    expect(parseSha256Sums(renderSha256Sums(sums))).toEqual(sums);
    expect(parseSha256Sums(`${"f".repeat(64)} *x.bin\n`)).toEqual([{ file: "x.bin", sha256: "f".repeat(64) }]);
  });

  test("refuses a malformed line", () => {
    expect(() => parseSha256Sums("abc  file\n")).toThrow("malformed");
  });
});
