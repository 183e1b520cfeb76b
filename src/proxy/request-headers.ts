/**
 * Which of the client's request headers go to the backend. The client's own signature and
 * everything tied to its connection are dropped (the request is re-signed for the backend);
 * every header S3 interprets is kept.
 */

/** Dropped always: the client's auth, and hop-by-hop or connection-specific headers. */
const DROPPED = new Set([
  "authorization",
  "x-amz-date",
  "x-amz-security-token",
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "content-length",
  "accept-encoding",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
]);

/** A literal SHA-256 of the body is kept: the backend then checks the bytes end to end. */
const LITERAL_SHA256 = /^[0-9a-f]{64}$/;

export const AWS_CHUNKED_HEADERS = ["x-amz-decoded-content-length", "x-amz-trailer", "x-amz-sdk-checksum-algorithm"];

/** Whether the body is framed as aws-chunked (a streaming SigV4 upload). */
export function isAwsChunked(headers: Headers): boolean {
  const sha = headers.get("x-amz-content-sha256") ?? "";
  if (sha.startsWith("STREAMING-")) return true;
  return (headers.get("content-encoding") ?? "").split(",").some((e) => e.trim().toLowerCase() === "aws-chunked");
}

export function forwardedRequestHeaders(incoming: Headers): Headers {
  const out = new Headers();
  const chunked = isAwsChunked(incoming);
  incoming.forEach((value, name) => {
    if (DROPPED.has(name)) return;
    if (name === "x-amz-content-sha256" && !LITERAL_SHA256.test(value)) return;
    if (chunked && AWS_CHUNKED_HEADERS.includes(name)) return;
    if (chunked && name === "content-encoding") {
      const rest = value
        .split(",")
        .map((e) => e.trim())
        .filter((e) => e !== "" && e.toLowerCase() !== "aws-chunked");
      if (rest.length > 0) out.set(name, rest.join(", "));
      return;
    }
    out.set(name, value);
  });
  return out;
}
