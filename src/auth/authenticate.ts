/**
 * Client authentication, one mode per proxy (`--auth`):
 *   sigv4         clients sign with keys issued for the proxy (optionally limited to buckets);
 *   passthrough   clients sign with the proxy's own backend key, verified with its secret;
 *   web-identity  clients present an OIDC token, exchanged for backend credentials via STS;
 *   none          no check (explicit opt-in).
 * Runs on every request after parsing and before anything is served or forwarded. Returns
 * the identity, the body to forward (wrapped so it is verified while it streams), the chunk
 * observer for aws-chunked bodies, and in web-identity mode the credentials to sign with.
 */
import type { ChunkObserver } from "../s3/aws-chunked.ts";
import { S3Error } from "../s3/errors.ts";
import type { S3Operation } from "../s3/operation.ts";
import type { Credentials } from "../upstream/credentials.ts";
import { EMPTY_SHA256, UNSIGNED_PAYLOAD } from "./canonical.ts";
import { chunkSignatureVerifier, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER } from "./chunk-signatures.ts";
import { contentSha256Mismatch, verifyPayloadSha256 } from "./payload-sha256.ts";
import { checkSigV2Time, readSigV2Claim, sigV2ResourcePath, verifySigV2, type SigV2Input } from "./sigv2-verify.ts";
import { SigningKeyCache } from "./signing-key.ts";
import { checkScope, checkSignedAmzHeaders, checkTime, readClaim, verifySignature, type InboundRequest, type SigV4Claim } from "./sigv4-verify.ts";
import { VerifiedSignatureCache } from "./verified-signatures.ts";
import type { WebIdentityExchanger } from "./web-identity.ts";

export const AUTH_MODES = ["sigv4", "passthrough", "web-identity", "none"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export interface Identity {
  mode: AuthMode;
  /** The access key id, the web identity (`subject@provider`), or `anonymous`. */
  principal: string;
}

export interface AuthResult {
  identity: Identity;
  body: ReadableStream<Uint8Array> | null;
  observeChunks?: ChunkObserver;
  /** Sign the backend request with these instead of the proxy's own (web-identity). */
  credentials?: Credentials;
}

/** Synchronous where nothing has to be waited for (`--auth none`), so a cache hit needs no promise. */
export type Authenticate = (op: S3Operation, req: Request) => AuthResult | Promise<AuthResult>;

/** A key a client may sign with, and the buckets it is limited to (undefined: all). */
export interface KnownKey {
  secretAccessKey: string;
  buckets?: ReadonlySet<string>;
}

export interface AuthenticatorOptions {
  mode: AuthMode;
  /** Regions accepted in the credential scope; the first is named in errors. */
  regions: readonly string[];
  /** sigv4 and passthrough: the secret of an access key id, if the key is known. */
  lookupKey?: (accessKeyId: string) => Promise<KnownKey | undefined>;
  webIdentity?: WebIdentityExchanger;
  /**
   * web-identity on a plain-HTTP, non-loopback listener: a token crossed the network in
   * clear. Refusing it (before any STS exchange) makes the setup fail at the first request
   * instead of working while tokens can be replayed by anyone on the path.
   */
  refuseTokens?: boolean;
  now?: () => number;
  /** Debug sink for signature mismatches (expected canonical request, string to sign). */
  debug?: (message: string) => void;
}

const INSECURE_TOKEN_MESSAGE = "Web identity tokens are refused over plain HTTP: connect with https (start the proxy with --tls-cert and --tls-key), or start it with --allow-insecure-tokens when TLS ends in front of it.";

const LITERAL_SHA256 = /^[0-9a-f]{64}$/;

/** A request whose signature checked out, with the key it was signed with. */
interface Verified {
  key: KnownKey;
  claim: SigV4Claim;
  signingKey: Uint8Array;
}

function accessDenied(): S3Error {
  return new S3Error("AccessDenied", "Access Denied");
}

export function createAuthenticator(opts: AuthenticatorOptions): Authenticate {
  const signingKeys = new SigningKeyCache();
  // op is parsed from req (the handler does so), so req's method, URL and headers, which
  // the cache compares, determine everything verification reads.
  const verified = new VerifiedSignatureCache();
  const now = opts.now ?? Date.now;

  /**
   * A repeat of a request verified before, while its key still has the secret it was
   * verified with (a reload may have changed or removed it): only the checks that depend on
   * inputs the signature does not cover run again; the time window is the cache's to check.
   */
  async function reverify(req: Request): Promise<Verified | undefined> {
    const hit = verified.find(req, now());
    if (hit === undefined) return undefined;
    const key = await opts.lookupKey!(hit.claim.accessKeyId);
    if (key === undefined || key.secretAccessKey !== hit.secret) return undefined;
    checkSignedAmzHeaders(hit.claim, req.headers);
    return { key, claim: hit.claim, signingKey: hit.signingKey };
  }

  async function verify(op: S3Operation, req: Request): Promise<Verified> {
    const inbound: InboundRequest = { method: req.method, rawPath: new URL(req.url).pathname, query: op.query, headers: req.headers };
    const claim = readClaim(inbound);
    if (!claim) throw accessDenied();
    checkScope(claim, opts.regions);
    const key = await opts.lookupKey!(claim.accessKeyId);
    if (!key) throw new S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", { AWSAccessKeyId: claim.accessKeyId });
    checkTime(claim, now());
    checkSignedAmzHeaders(claim, req.headers);
    const signingKey = signingKeys.get(key.secretAccessKey, claim.date, claim.region, claim.service);
    verifySignature(inbound, claim, signingKey, opts.debug);
    verified.remember(req, { claim, secret: key.secretAccessKey, signingKey });
    return { key, claim, signingKey };
  }

  async function sigv4(op: S3Operation, req: Request): Promise<AuthResult> {
    const v2 = await sigv2(op, req);
    if (v2) return v2;
    const { key, claim, signingKey } = (await reverify(req)) ?? (await verify(op, req));
    checkBuckets(op, key.buckets);
    return verifiedBody(req, claim, signingKey, { mode: opts.mode, principal: claim.accessKeyId });
  }

  /** SigV2 (header or presigned), or undefined when the request is not SigV2-signed. Same key lookup and allow-list. */
  async function sigv2(op: S3Operation, req: Request): Promise<AuthResult | undefined> {
    const claim = readSigV2Claim({ query: op.query, headers: req.headers });
    if (!claim) return undefined;
    const input: SigV2Input = { method: req.method, resourcePath: sigV2ResourcePath(op, new URL(req.url).pathname), query: op.query, headers: req.headers };
    const key = await opts.lookupKey!(claim.accessKeyId);
    if (!key) throw new S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", { AWSAccessKeyId: claim.accessKeyId });
    checkSigV2Time(claim, now());
    verifySigV2(input, claim, key.secretAccessKey, opts.debug);
    checkBuckets(op, key.buckets);
    const hash = req.headers.get("x-amz-content-sha256") ?? UNSIGNED_PAYLOAD;
    // Chunk signatures are SigV4's, keyed with a scope a SigV2 request does not have.
    if (hash === STREAMING_SIGNED || hash === STREAMING_SIGNED_TRAILER) throw new S3Error("InvalidRequest", "Signed aws-chunked bodies need SigV4 (AWS4-HMAC-SHA256).");
    return unsignedOrLiteralBody(req, hash, { mode: opts.mode, principal: claim.accessKeyId });
  }

  async function webIdentity(op: S3Operation, req: Request): Promise<AuthResult> {
    const token = bearerToken(req.headers) ?? req.headers.get("x-amz-security-token") ?? op.query.find(([k]) => k === "X-Amz-Security-Token")?.[1];
    if (!token) throw accessDenied();
    if (opts.refuseTokens) throw new S3Error("InvalidRequest", INSECURE_TOKEN_MESSAGE);
    const session = await opts.webIdentity!.session(token);
    return { identity: { mode: "web-identity", principal: session.identity }, body: req.body, credentials: session.credentials };
  }

  switch (opts.mode) {
    case "sigv4":
    case "passthrough":
      if (!opts.lookupKey) throw new Error(`auth mode ${opts.mode} needs a key lookup`);
      return sigv4;
    case "web-identity":
      if (!opts.webIdentity) throw new Error("auth mode web-identity needs an STS exchanger");
      return webIdentity;
    case "none":
      return (_op, req) => ({ identity: { mode: "none", principal: "anonymous" }, body: req.body });
  }
}

function bearerToken(headers: Headers): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
  return m?.[1];
}

/**
 * The body as it must be forwarded, verified against what the signature covers. Builds the
 * whole result (identity included) because spreading a partial one into it showed in
 * profiles of every request.
 */
function verifiedBody(req: Request, claim: SigV4Claim, signingKey: Uint8Array, identity: Identity): AuthResult {
  const hash = claim.payloadHash;
  if (hash === STREAMING_SIGNED || hash === STREAMING_SIGNED_TRAILER) {
    return {
      identity,
      body: req.body,
      observeChunks: chunkSignatureVerifier({ signingKey, amzDate: claim.amzDate, scope: claim.scope, seedSignature: claim.signature, signedTrailer: hash === STREAMING_SIGNED_TRAILER }),
    };
  }
  return unsignedOrLiteralBody(req, hash, identity);
}

/** A body covered by a literal SHA-256 (checked while it streams) or by no signature at all. */
function unsignedOrLiteralBody(req: Request, hash: string, identity: Identity): AuthResult {
  if (LITERAL_SHA256.test(hash)) {
    const length = req.headers.get("content-length");
    // An empty body is never read on the way out, so check it here.
    if (req.body === null || length === "0") {
      if (hash !== EMPTY_SHA256) throw contentSha256Mismatch();
      return { identity, body: req.body };
    }
    return { identity, body: verifyPayloadSha256(req.body, hash) };
  }
  switch (hash) {
    case UNSIGNED_PAYLOAD:
    case STREAMING_UNSIGNED_TRAILER:
      return { identity, body: req.body };
    default:
      throw new S3Error("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], STREAMING-UNSIGNED-PAYLOAD-TRAILER, or a valid sha256 value.");
  }
}

/** A limited key reaches only its buckets: the one addressed and, for copies, the source (parsed and checked once, forwarded as parsed). */
export function checkBuckets(op: Pick<S3Operation, "bucket" | "copySource">, buckets: ReadonlySet<string> | undefined): void {
  if (buckets === undefined) return;
  if (op.bucket === undefined || !buckets.has(op.bucket)) throw accessDenied();
  if (op.copySource !== undefined && !buckets.has(op.copySource.bucket)) throw accessDenied();
}
