/** Header-signed SigV4 GETs as a client of ours with `--auth sigv4` (BENCH_CLIENT's keys) sends them. */
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../../src/upstream/sha256.ts";
import { BENCH_CLIENT } from "./peers.ts";

/**
 * host, range, x-amz-date and x-amz-content-sha256 signed. S3 accepts a signature for 15
 * minutes, so callers sign afresh before each load run; replaying one signed request is what
 * every retrying client does.
 */
export async function signedGetHeaders(url: string, range: string): Promise<Record<string, string>> {
  const u = new URL(url);
  const signer = new SignatureV4({ service: "s3", region: BENCH_CLIENT.region, credentials: BENCH_CLIENT, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const signed = await signer.sign({
    method: "GET",
    protocol: "http:",
    hostname: u.hostname,
    port: Number(u.port),
    path: u.pathname,
    headers: { host: u.host, range, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) if (name !== "host") headers[name] = String(value);
  return headers;
}
