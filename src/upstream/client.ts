/**
 * The one place that talks to the backend: builds the backend URL, signs the request with
 * the backend credentials (@smithy/signature-v4) and sends it with Bun's fetch. What goes
 * on the wire is exactly what was signed: the path and query are encoded here once, with
 * the same rule the signer uses, and nothing downstream re-encodes them.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { S3Error } from "../s3/errors.ts";
import { buildQueryString, encodePath, type QueryParam } from "../s3/uri.ts";
import type { CredentialProvider } from "./credentials.ts";
import { Sha256 } from "./sha256.ts";

export interface UpstreamRequest {
  method: string;
  bucket?: string;
  key?: string;
  query: readonly QueryParam[];
  /** Headers to forward; the client's own auth headers must already be removed. */
  headers: Headers;
  body?: ReadableStream<Uint8Array> | Uint8Array | null;
  signal?: AbortSignal;
}

export interface UpstreamOptions {
  endpoint: URL;
  region: string;
  credentials: CredentialProvider;
  fetch?: typeof fetch;
  /** How long a bodiless request may wait for the backend's response headers (default 30 s). */
  headersTimeoutMs?: number;
}

/** Headers that are never signed: fetch may add, drop or rewrite them on the way out. */
const UNSIGNABLE = new Set(["content-length", "accept-encoding", "accept", "user-agent", "connection", "expect", "transfer-encoding", "te", "keep-alive"]);
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const HEADERS_TIMEOUT_MS = 30_000;

export class UpstreamClient {
  private readonly signer: SignatureV4;
  private readonly basePath: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: UpstreamOptions) {
    this.signer = new SignatureV4({
      service: "s3",
      region: opts.region,
      sha256: Sha256,
      // The path handed to the signer is already S3-encoded; S3 never double-encodes.
      uriEscapePath: false,
      applyChecksum: false,
      credentials: async () => {
        const c = await opts.credentials();
        if (!c) throw new Error("no credentials");
        return c;
      },
    });
    this.basePath = opts.endpoint.pathname.replace(/\/+$/, "");
    this.fetchFn = opts.fetch ?? fetch;
  }

  get endpoint(): URL {
    return this.opts.endpoint;
  }

  /** The encoded backend path for a bucket/key, always path-style. */
  pathFor(bucket?: string, key?: string): string {
    let path = this.basePath;
    if (bucket !== undefined) path += "/" + encodePath(bucket);
    if (key !== undefined) path += "/" + encodePath(key);
    return path === "" ? "/" : path;
  }

  async send(req: UpstreamRequest): Promise<Response> {
    const path = this.pathFor(req.bucket, req.key);
    const headers: Record<string, string> = {};
    req.headers.forEach((value, name) => {
      headers[name] = value;
    });
    headers.host = this.opts.endpoint.host;
    if (!headers["x-amz-content-sha256"]) {
      headers["x-amz-content-sha256"] = req.body == null ? EMPTY_SHA256 : "UNSIGNED-PAYLOAD";
    }
    const credentials = await this.opts.credentials();
    const signed = credentials
      ? (
          await this.signer.sign(
            { method: req.method, protocol: this.opts.endpoint.protocol, hostname: this.opts.endpoint.hostname, port: portOf(this.opts.endpoint), path, query: queryObject(req.query), headers },
            { unsignableHeaders: UNSIGNABLE },
          )
        ).headers
      : headers;
    delete signed.host; // fetch derives the identical Host from the URL.
    const qs = buildQueryString(req.query);
    const url = `${this.opts.endpoint.protocol}//${this.opts.endpoint.host}${path}${qs ? "?" + qs : ""}`;
    // Only requests without a body are timed: an upload's answer waits for the whole body,
    // however long the client takes to send it. The timer stops once the headers are in, so
    // a long download is never cut.
    const timeoutMs = this.opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
    const timeout = new AbortController();
    const timer = req.body == null ? setTimeout(() => timeout.abort(), timeoutMs) : undefined;
    try {
      return await this.fetchFn(url, {
        method: req.method,
        headers: signed,
        body: req.body ?? undefined,
        signal: req.signal ? AbortSignal.any([req.signal, timeout.signal]) : timeout.signal,
        redirect: "manual",
        // Bytes must reach the client exactly as stored, whatever their Content-Encoding.
        decompress: false,
        duplex: "half",
      } as RequestInit);
    } catch (err) {
      // A request body that failed (e.g. malformed aws-chunked framing) is the client's fault.
      if (req.signal?.aborted || err instanceof S3Error) throw err;
      if (timeout.signal.aborted) throw new S3Error("GatewayTimeout", `The backend did not answer within ${timeoutMs / 1000} s.`);
      throw new S3Error("BadGateway", `The backend could not be reached: ${describe(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

function portOf(url: URL): number | undefined {
  return url.port ? Number(url.port) : undefined;
}

/** Group repeated names as arrays, the shape @smithy/signature-v4 canonicalises. */
function queryObject(params: readonly QueryParam[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of params) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function describe(err: unknown): string {
  if (err instanceof Error) return (err as { code?: string }).code ?? err.message;
  return String(err);
}
