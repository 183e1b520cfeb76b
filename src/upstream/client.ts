/**
 * The one place that talks to the backend: builds the backend URL, signs the request with
 * the backend credentials (@smithy/signature-v4) and sends it with Bun's fetch. What goes
 * on the wire is exactly what was signed: the path and query are encoded here once, with
 * the same rule the signer uses, and nothing downstream re-encodes them.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { S3Error } from "../s3/errors.ts";
import { buildQueryString, encodePath, type QueryParam } from "../s3/uri.ts";
import type { CredentialProvider, Credentials } from "./credentials.ts";
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
  /** Sign with these instead of the client's provider (per-identity credentials). */
  credentials?: Credentials;
}

export interface UpstreamOptions {
  endpoint: URL;
  region: string;
  credentials: CredentialProvider;
  fetch?: typeof fetch;
}

/** Headers that are never signed: fetch may add, drop or rewrite them on the way out. */
const UNSIGNABLE = new Set(["content-length", "accept-encoding", "accept", "user-agent", "connection", "expect", "transfer-encoding", "te", "keep-alive"]);
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export class UpstreamClient {
  private readonly signer: SignatureV4;
  private readonly basePath: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: UpstreamOptions) {
    this.signer = this.signerFor(async () => {
      const c = await opts.credentials();
      if (!c) throw new Error("no credentials");
      return c;
    });
    this.basePath = opts.endpoint.pathname.replace(/\/+$/, "");
    this.fetchFn = opts.fetch ?? fetch;
  }

  private signerFor(credentials: Credentials | (() => Promise<Credentials>)): SignatureV4 {
    return new SignatureV4({
      service: "s3",
      region: this.opts.region,
      sha256: Sha256,
      // The path handed to the signer is already S3-encoded; S3 never double-encodes.
      uriEscapePath: false,
      applyChecksum: false,
      credentials,
    });
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
    const credentials = req.credentials ?? (await this.opts.credentials());
    const signer = req.credentials ? this.signerFor(req.credentials) : this.signer;
    const signed = credentials
      ? (
          await signer.sign(
            { method: req.method, protocol: this.opts.endpoint.protocol, hostname: this.opts.endpoint.hostname, port: portOf(this.opts.endpoint), path, query: queryObject(req.query), headers },
            { unsignableHeaders: UNSIGNABLE },
          )
        ).headers
      : headers;
    delete signed.host; // fetch derives the identical Host from the URL.
    const qs = buildQueryString(req.query);
    const url = `${this.opts.endpoint.protocol}//${this.opts.endpoint.host}${path}${qs ? "?" + qs : ""}`;
    try {
      return await this.fetchFn(url, {
        method: req.method,
        headers: signed,
        body: req.body ?? undefined,
        signal: req.signal,
        redirect: "manual",
        // Bytes must reach the client exactly as stored, whatever their Content-Encoding.
        decompress: false,
        duplex: "half",
      } as RequestInit);
    } catch (err) {
      // A request body that failed verification on its way out (auth) explains itself.
      if (req.signal?.aborted || err instanceof S3Error) throw err;
      throw new S3Error("BadGateway", `The backend could not be reached: ${describe(err)}`);
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
