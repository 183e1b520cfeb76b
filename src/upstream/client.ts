/**
 * The one place that talks to the backend: builds the backend URL, signs the request with
 * the backend credentials (@smithy/signature-v4) and sends it with Bun's fetch. What goes
 * on the wire is exactly what was signed: the path and query are encoded here once, with
 * the same rule the signer uses, and nothing downstream re-encodes them.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { BrokenBody, S3Error } from "../s3/errors.ts";
import { buildQueryString, encodePath, type QueryParam } from "../s3/uri.ts";
import { CircuitBreaker } from "./circuit-breaker.ts";
import type { CredentialProvider, Credentials } from "./credentials.ts";
import { Limiter } from "./limiter.ts";
import { backoffMs, DEFAULT_RETRY, isRetryableStatus, type RetryPolicy } from "./retry.ts";
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

export interface UpstreamTimeouts {
  /** From sending the request to the response headers (connect included: Bun's fetch does not separate them). */
  firstByteMs: number;
  /** Longest pause between two pieces of a response body. */
  idleMs: number;
}

export interface UpstreamOptions {
  endpoint: URL;
  region: string;
  credentials: CredentialProvider;
  fetch?: typeof fetch;
  timeouts?: UpstreamTimeouts;
  retry?: RetryPolicy;
  /** Most backend requests in flight at once (headers to end of body). */
  maxConcurrent?: number;
  /** Consecutive connection failures or timeouts that open the circuit, and how long it stays open. */
  breaker?: { threshold: number; cooldownMs: number };
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_TIMEOUTS: UpstreamTimeouts = { firstByteMs: 30_000, idleMs: 30_000 };

/** Counted by kind for metrics: what went wrong talking to the backend. */
export interface UpstreamErrorCounts {
  connect: number;
  timeout: number;
  idle: number;
  status5xx: number;
  circuitOpen: number;
  retries: number;
}

/** Headers that are never signed: fetch may add, drop or rewrite them on the way out. */
const UNSIGNABLE = new Set(["content-length", "accept-encoding", "accept", "user-agent", "connection", "expect", "transfer-encoding", "te", "keep-alive"]);
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export class UpstreamClient {
  private readonly signer: SignatureV4;
  private readonly basePath: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeouts: UpstreamTimeouts;
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  readonly limiter: Limiter;
  readonly breaker: CircuitBreaker;
  readonly errors: UpstreamErrorCounts = { connect: 0, timeout: 0, idle: 0, status5xx: 0, circuitOpen: 0, retries: 0 };

  constructor(private readonly opts: UpstreamOptions) {
    this.signer = this.signerFor(async () => {
      const c = await opts.credentials();
      if (!c) throw new Error("no credentials");
      return c;
    });
    this.basePath = opts.endpoint.pathname.replace(/\/+$/, "");
    this.fetchFn = opts.fetch ?? fetch;
    this.timeouts = opts.timeouts ?? DEFAULT_TIMEOUTS;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.sleep = opts.sleep ?? ((ms) => Bun.sleep(ms));
    this.limiter = new Limiter(opts.maxConcurrent ?? 256);
    this.breaker = new CircuitBreaker(opts.breaker?.threshold ?? 5, opts.breaker?.cooldownMs ?? 2_000);
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

  /**
   * Send one request, signed. Idempotent requests with a replayable body are retried on
   * connection failures, timeouts, 500 and 503 while nothing has reached the client (the
   * caller has only headers once this returns). Fails fast while the circuit is open.
   */
  async send(req: UpstreamRequest): Promise<Response> {
    const replayable = req.body == null || req.body instanceof Uint8Array;
    const attempts = replayable && IDEMPOTENT.has(req.method) ? this.retry.attempts : 1;
    for (let attempt = 1; ; attempt++) {
      if (!this.breaker.allow()) {
        this.errors.circuitOpen++;
        throw new S3Error("ServiceUnavailable", "The backend is failing; the proxy fails fast until it recovers. Please retry.");
      }
      const last = attempt >= attempts;
      try {
        const res = await this.attempt(req);
        this.breaker.success();
        if (res.status >= 500) this.errors.status5xx++;
        if (!last && isRetryableStatus(res.status)) {
          await res.body?.cancel();
        } else {
          return res;
        }
      } catch (err) {
        if (!(err instanceof S3Error)) throw err;
        // One failed request (all its attempts) is one strike; a failed half-open probe re-opens at once.
        if (err.status < 500) throw err; // the client's own fault (e.g. a malformed body): no strike
        if (last || this.breaker.state === "half-open") {
          this.breaker.failure();
          throw err;
        }
      }
      this.errors.retries++;
      await this.sleep(backoffMs(this.retry, attempt));
    }
  }

  private async attempt(req: UpstreamRequest): Promise<Response> {
    const signed = await this.sign(req);
    await this.limiter.acquire();
    const abort = new AbortController();
    const onClientAbort = () => abort.abort(req.signal!.reason);
    req.signal?.addEventListener("abort", onClientAbort, { once: true });
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const armFirstByteTimer = () => {
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, this.timeouts.firstByteMs);
    };
    // The backend answers an upload only once it has the whole body: for a streamed body the
    // first-byte wait starts when the last byte has been handed over, however long that took.
    const body = req.body instanceof ReadableStream ? onceDrained(req.body, armFirstByteTimer) : req.body;
    if (!(req.body instanceof ReadableStream)) armFirstByteTimer();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      req.signal?.removeEventListener("abort", onClientAbort);
      this.limiter.release();
    };
    let res: Response;
    try {
      res = await this.fetchFn(signed.url, {
        method: req.method,
        headers: signed.headers,
        body: body ?? undefined,
        signal: abort.signal,
        redirect: "manual",
        // Bytes must reach the client exactly as stored, whatever their Content-Encoding.
        decompress: false,
        duplex: "half",
      } as RequestInit);
    } catch (err) {
      release();
      // The caller gave up (client gone, or its own deadline): never retried.
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      if (timedOut) {
        this.errors.timeout++;
        throw new S3Error("GatewayTimeout", `The backend did not answer within ${this.timeouts.firstByteMs} ms`);
      }
      if (err instanceof S3Error) throw err;
      this.errors.connect++;
      throw new S3Error("BadGateway", `The backend could not be reached: ${describe(err)}`);
    }
    clearTimeout(timer);
    if (res.body === null) {
      release();
      return res;
    }
    return new Response(this.watchBody(res.body, abort, release), { status: res.status, statusText: res.statusText, headers: res.headers });
  }

  /** The body, aborted when it pauses longer than the idle timeout; frees the request slot when done. */
  private watchBody(body: ReadableStream<Uint8Array>, abort: AbortController, release: () => void): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    const idleMs = this.timeouts.idleMs;
    const errors = this.errors;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const idle = setTimeout(() => abort.abort(), idleMs);
        try {
          const { value, done } = await reader.read();
          if (done) {
            release();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (err) {
          release();
          if (abort.signal.aborted) errors.idle++;
          else errors.connect++;
          controller.error(abort.signal.aborted ? new BrokenBody("GatewayTimeout", `The backend stalled for ${idleMs} ms mid-body`) : new BrokenBody("BadGateway", `The connection to the backend broke mid-body: ${describe(err)}`));
        } finally {
          clearTimeout(idle);
        }
      },
      cancel(reason) {
        release();
        return reader.cancel(reason);
      },
    });
  }

  private async sign(req: UpstreamRequest): Promise<{ url: string; headers: Record<string, string> }> {
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
      ? (await signer.sign({ method: req.method, protocol: this.opts.endpoint.protocol, hostname: this.opts.endpoint.hostname, port: portOf(this.opts.endpoint), path, query: queryObject(req.query), headers }, { unsignableHeaders: UNSIGNABLE }))
          .headers
      : headers;
    delete signed.host; // fetch derives the identical Host from the URL.
    const qs = buildQueryString(req.query);
    return { url: `${this.opts.endpoint.protocol}//${this.opts.endpoint.host}${path}${qs ? "?" + qs : ""}`, headers: signed };
  }
}

/** The same stream, calling `drained` once its last chunk has been read. */
function onceDrained(body: ReadableStream<Uint8Array>, drained: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) {
        drained();
        controller.close();
      } else {
        controller.enqueue(value);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** Methods whose repetition has no further effect; retried when their body can be replayed. */
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE"]);

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
