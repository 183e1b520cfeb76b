/** Request ids shaped like S3's (16 upper-case hex digits): a random per-process prefix and a counter. */
const prefix = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0"))
  .join("")
  .toUpperCase();
let counter = 0;

export function nextRequestId(): string {
  counter = (counter + 1) >>> 0;
  return prefix + counter.toString(16).toUpperCase().padStart(8, "0");
}
