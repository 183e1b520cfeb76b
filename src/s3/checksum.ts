/**
 * Verify the trailing checksum of an aws-chunked upload (`x-amz-trailer: x-amz-checksum-*`)
 * against the decoded bytes. The trailer arrives after the backend request's headers have
 * gone out, so it cannot be forwarded; the proxy checks it instead, and a mismatch errors
 * the body stream, which aborts the upstream request: the backend never stores the bytes.
 * CRC32C and CRC64NVME have no native implementation here and pass unverified.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import type { ChunkObserver } from "./aws-chunked.ts";
import { S3Error } from "./errors.ts";

interface Digest {
  update(bytes: Uint8Array): void;
  base64(): string;
}

function crc32Digest(): Digest {
  let value = 0;
  return {
    update: (bytes) => void (value = crc32(bytes, value)),
    base64: () => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(value >>> 0);
      return out.toString("base64");
    },
  };
}

function hashDigest(algorithm: "sha1" | "sha256"): Digest {
  const hash = createHash(algorithm);
  return { update: (bytes) => void hash.update(bytes), base64: () => hash.digest("base64") };
}

const DIGESTS: Record<string, () => Digest> = {
  "x-amz-checksum-crc32": crc32Digest,
  "x-amz-checksum-sha1": () => hashDigest("sha1"),
  "x-amz-checksum-sha256": () => hashDigest("sha256"),
};

/** An observer that checks the checksum named by `x-amz-trailer`, or undefined when there is none we can compute. */
export function trailingChecksumVerifier(trailer: string | null): ChunkObserver | undefined {
  const name = trailer?.trim().toLowerCase() ?? "";
  const make = DIGESTS[name];
  if (!make) return undefined;
  const digest = make();
  const algorithm = name.slice("x-amz-checksum-".length).toUpperCase();
  let verified = false;
  return (event) => {
    if (event.type === "data") digest.update(event.bytes);
    else if (event.type === "trailer" && event.name === name) {
      if (event.value !== digest.base64()) throw new S3Error("BadDigest", `The ${algorithm} you specified did not match the calculated checksum.`);
      verified = true;
    } else if (event.type === "end" && !verified) {
      throw new S3Error("IncompleteBody", `The body ended without the ${name} trailer announced by x-amz-trailer.`);
    }
  };
}
