/** Request ids shaped like S3's (16 upper-case hex digits): a random per-process prefix and a counter. */
const prefix = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0"))
  .join("")
  .toUpperCase();
let counter = 0;

/** "00" to "FF": a counter's four bytes become four lookups (this runs once per request). */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0").toUpperCase());

export function nextRequestId(): string {
  counter = (counter + 1) >>> 0;
  return prefix + HEX[counter >>> 24]! + HEX[(counter >>> 16) & 0xff]! + HEX[(counter >>> 8) & 0xff]! + HEX[counter & 0xff]!;
}
