/**
 * `web-identity` mode: the client's OIDC token is exchanged for temporary backend
 * credentials with STS AssumeRoleWithWebIdentity. Sessions are cached per token hash until
 * shortly before they expire, and a token has at most one exchange in flight: concurrent
 * requests with the same token wait for it. Tokens are never logged or kept in clear.
 */
import { createHash } from "node:crypto";
import { S3Error } from "../s3/errors.ts";
import { parseXml } from "../s3/xml.ts";
import type { Credentials } from "../upstream/credentials.ts";

export interface WebIdentityOptions {
  stsEndpoint: URL;
  roleArn: string;
  durationSeconds?: number;
  /** Exchange again this long before the credentials expire. */
  refreshMarginMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface WebIdentitySession {
  credentials: Credentials & { expiration: Date };
  /** Who the token names (`subject@provider`), else a hash of the token: the cache identity. */
  identity: string;
}

const DEFAULT_REFRESH_MARGIN_MS = 60_000;
const MAX_SESSIONS = 10_000;
const STS_TIMEOUT_MS = 10_000;

function rejected(): S3Error {
  return new S3Error("AccessDenied", "Access Denied: the web identity token was rejected.");
}

function path(doc: unknown, ...names: string[]): unknown {
  let node = doc;
  for (const name of names) node = node && typeof node === "object" ? (node as Record<string, unknown>)[name] : undefined;
  return node;
}

function text(doc: unknown, ...names: string[]): string | undefined {
  const v = path(doc, ...names);
  return typeof v === "string" && v !== "" ? v : undefined;
}

export class WebIdentityExchanger {
  private readonly sessions = new Map<string, WebIdentitySession>();
  private readonly inFlight = new Map<string, Promise<WebIdentitySession>>();
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly margin: number;
  /** How many exchanges were sent to STS (observability and tests). */
  exchanges = 0;

  constructor(private readonly opts: WebIdentityOptions) {
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.margin = opts.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  }

  async session(token: string): Promise<WebIdentitySession> {
    const id = createHash("sha256").update(token).digest("hex");
    const cached = this.sessions.get(id);
    if (cached && cached.credentials.expiration.getTime() - this.margin > this.now()) return cached;
    let pending = this.inFlight.get(id);
    if (!pending) {
      pending = this.exchange(token, id).then(
        (s) => {
          this.remember(id, s);
          return s;
        },
        (e) => {
          // A rejected or failed exchange is not cached: the next request tries again.
          this.sessions.delete(id);
          throw e;
        },
      );
      pending.finally(() => this.inFlight.delete(id)).catch(() => {});
      this.inFlight.set(id, pending);
    }
    return pending;
  }

  private remember(id: string, session: WebIdentitySession): void {
    if (this.sessions.size >= MAX_SESSIONS) {
      for (const [k, s] of this.sessions) if (s.credentials.expiration.getTime() <= this.now()) this.sessions.delete(k);
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    }
    this.sessions.set(id, session);
  }

  private async exchange(token: string, id: string): Promise<WebIdentitySession> {
    this.exchanges++;
    const form = new URLSearchParams({
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      RoleArn: this.opts.roleArn,
      RoleSessionName: `s3proxy-${id.slice(0, 16)}`,
      WebIdentityToken: token,
      DurationSeconds: String(this.opts.durationSeconds ?? 3600),
    });
    let res: Response;
    try {
      res = await this.fetchFn(this.opts.stsEndpoint.href, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/xml" },
        body: form.toString(),
        signal: AbortSignal.timeout(STS_TIMEOUT_MS),
      });
    } catch (err) {
      throw new S3Error("BadGateway", `The STS endpoint could not be reached: ${(err as Error).name}`);
    }
    const doc = parseXml(await res.text());
    if (res.status >= 500) throw new S3Error("ServiceUnavailable", "The STS endpoint is unavailable. Please try again.");
    if (!res.ok) throw rejected();
    const result = path(doc, "AssumeRoleWithWebIdentityResponse", "AssumeRoleWithWebIdentityResult");
    const accessKeyId = text(result, "Credentials", "AccessKeyId");
    const secretAccessKey = text(result, "Credentials", "SecretAccessKey");
    const sessionToken = text(result, "Credentials", "SessionToken");
    const expiration = new Date(text(result, "Credentials", "Expiration") ?? NaN);
    if (!accessKeyId || !secretAccessKey || Number.isNaN(expiration.getTime())) {
      throw new S3Error("BadGateway", "The STS endpoint answered without credentials.");
    }
    const subject = text(result, "SubjectFromWebIdentityToken");
    const provider = text(result, "Provider");
    return {
      credentials: { accessKeyId, secretAccessKey, sessionToken, expiration },
      identity: subject ? `${subject}@${provider ?? "oidc"}` : `token:${id.slice(0, 32)}`,
    };
  }
}
