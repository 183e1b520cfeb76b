/** Checks on release artefacts that need no tools: executable formats from magic bytes, SHA256SUMS. */

export type BinaryFormat = "elf-x86-64" | "elf-aarch64" | "macho-arm64" | "macho-x86-64";

/** The ELF or Mach-O flavour of an executable's first bytes (at least 20), or undefined. */
export function binaryFormat(head: Uint8Array): BinaryFormat | undefined {
  if (head.length < 20) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  // ELF: \x7fELF, class 2 (64-bit), data 1 (little-endian), e_type 2 or 3 (EXEC or PIE), e_machine at 18.
  if (view.getUint32(0) === 0x7f454c46 && head[4] === 2 && head[5] === 1) {
    const type = view.getUint16(16, true);
    if (type !== 2 && type !== 3) return undefined;
    const machine = view.getUint16(18, true);
    if (machine === 0x3e) return "elf-x86-64";
    if (machine === 0xb7) return "elf-aarch64";
    return undefined;
  }
  // Mach-O 64-bit little-endian: MH_MAGIC_64 0xfeedfacf, cputype at 4, filetype 2 (MH_EXECUTE) at 12.
  if (view.getUint32(0, true) === 0xfeedfacf && view.getUint32(12, true) === 2) {
    const cpu = view.getUint32(4, true);
    if (cpu === 0x0100000c) return "macho-arm64";
    if (cpu === 0x01000007) return "macho-x86-64";
  }
  return undefined;
}

/**
 * Whether a 64-bit Mach-O carries a code signature (LC_CODE_SIGNATURE among its load
 * commands): macOS on Apple silicon refuses to run an unsigned binary, even ad-hoc.
 * `head` must cover the header and load commands (the first 64 KiB is plenty).
 */
export function machoIsSigned(head: Uint8Array): boolean {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length < 32 || view.getUint32(0, true) !== 0xfeedfacf) return false;
  const count = view.getUint32(16, true);
  let at = 32; // sizeof(mach_header_64)
  for (let i = 0; i < count && at + 8 <= head.length; i++) {
    if (view.getUint32(at, true) === 0x1d) return true;
    const size = view.getUint32(at + 4, true);
    if (size < 8) return false;
    at += size;
  }
  return false;
}

export interface Checksum {
  file: string;
  sha256: string;
}

/** `sha256sum` format (hash, two spaces, file name), sorted by name (byte order) so the file is reproducible. */
export function renderSha256Sums(sums: Checksum[]): string {
  return [...sums]
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
    .map((s) => `${s.sha256}  ${s.file}\n`)
    .join("");
}

export function parseSha256Sums(text: string): Checksum[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
      if (!m) throw new Error(`SHA256SUMS: malformed line "${line}"`);
      return { sha256: m[1]!, file: m[2]! };
    });
}
