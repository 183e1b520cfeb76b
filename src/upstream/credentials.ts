/**
 * Backend credentials from the standard AWS chain: environment, then the shared
 * credentials/config files (AWS_PROFILE), then container (ECS) or instance (EC2 IMDSv2)
 * metadata, refreshed before they expire. The environment is passed in, never read at
 * import time, so tests and the CLI decide what it holds.
 */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working; undefined for long-lived keys. */
  expiration?: Date;
}

/** Resolves the current credentials, or undefined when the request is to go unsigned. */
export type CredentialProvider = () => Promise<Credentials | undefined>;

export class CredentialsError extends Error {}

type Env = Record<string, string | undefined>;

/** Refresh temporary credentials this long before they expire. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const METADATA_TIMEOUT_MS = 1_000;

export function fromEnv(env: Env): Credentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}

/** Parse an INI file as the AWS CLI writes it: `[section]` headers and `key = value` lines. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq === -1 || !current) continue;
    current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return sections;
}

/**
 * Static keys of a named profile: from the credentials file's `[name]` section, else the
 * config file's `[profile name]` (or `[default]`). Throws CredentialsError when a file the
 * user pointed at explicitly cannot be read.
 */
export async function fromSharedFiles(env: Env): Promise<Credentials | undefined> {
  const home = env.HOME ?? "";
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || "default";
  const sources: Array<[variable: string, path: string, explicit: boolean, section: string]> = [
    ["AWS_SHARED_CREDENTIALS_FILE", env.AWS_SHARED_CREDENTIALS_FILE || `${home}/.aws/credentials`, !!env.AWS_SHARED_CREDENTIALS_FILE, profile],
    ["AWS_CONFIG_FILE", env.AWS_CONFIG_FILE || `${home}/.aws/config`, !!env.AWS_CONFIG_FILE, profile === "default" ? "default" : `profile ${profile}`],
  ];
  for (const [variable, path, explicit, section] of sources) {
    const unreadable = () => new CredentialsError(`${variable}: cannot read credentials file ${path}`);
    const file = Bun.file(path);
    if (!(await file.exists())) {
      if (explicit) throw unreadable();
      continue;
    }
    let text: string;
    try {
      text = await file.text();
    } catch {
      throw unreadable();
    }
    const values = parseIni(text).get(section);
    const accessKeyId = values?.get("aws_access_key_id");
    const secretAccessKey = values?.get("aws_secret_access_key");
    if (accessKeyId && secretAccessKey) {
      return { accessKeyId, secretAccessKey, sessionToken: values?.get("aws_session_token") || undefined };
    }
  }
  return undefined;
}

interface MetadataCredentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  Token?: string;
  Expiration?: string;
}

function fromMetadataDocument(doc: MetadataCredentials): Credentials {
  return {
    accessKeyId: doc.AccessKeyId,
    secretAccessKey: doc.SecretAccessKey,
    sessionToken: doc.Token,
    expiration: doc.Expiration ? new Date(doc.Expiration) : undefined,
  };
}

/** ECS/EKS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI). */
export function containerProvider(env: Env, fetchFn: typeof fetch = fetch): (() => Promise<Credentials>) | undefined {
  const relative = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  const full = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (!relative && !full) return undefined;
  const url = relative ? `http://169.254.170.2${relative}` : full!;
  return async () => {
    const headers: Record<string, string> = {};
    const token = env.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? (env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ? (await Bun.file(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).text()).trim() : undefined);
    if (token) headers.authorization = token;
    const res = await fetchFn(url, { headers, signal: AbortSignal.timeout(METADATA_TIMEOUT_MS) });
    if (!res.ok) throw new CredentialsError(`container credentials endpoint answered ${res.status}`);
    return fromMetadataDocument((await res.json()) as MetadataCredentials);
  };
}

/** EC2 instance profile credentials over IMDSv2. Disabled by AWS_EC2_METADATA_DISABLED=true. */
export function instanceProvider(env: Env, fetchFn: typeof fetch = fetch): (() => Promise<Credentials>) | undefined {
  if ((env.AWS_EC2_METADATA_DISABLED ?? "").toLowerCase() === "true") return undefined;
  const base = env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? "http://169.254.169.254";
  return async () => {
    const timeout = () => AbortSignal.timeout(METADATA_TIMEOUT_MS);
    const tokenRes = await fetchFn(`${base}/latest/api/token`, { method: "PUT", headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" }, signal: timeout() });
    if (!tokenRes.ok) throw new CredentialsError(`instance metadata token request answered ${tokenRes.status}`);
    const headers = { "x-aws-ec2-metadata-token": await tokenRes.text() };
    const roleRes = await fetchFn(`${base}/latest/meta-data/iam/security-credentials/`, { headers, signal: timeout() });
    if (!roleRes.ok) throw new CredentialsError(`instance metadata has no role (${roleRes.status})`);
    const role = (await roleRes.text()).split("\n")[0]!.trim();
    const credRes = await fetchFn(`${base}/latest/meta-data/iam/security-credentials/${role}`, { headers, signal: timeout() });
    if (!credRes.ok) throw new CredentialsError(`instance metadata credentials answered ${credRes.status}`);
    return fromMetadataDocument((await credRes.json()) as MetadataCredentials);
  };
}

/**
 * Wrap a fetching provider so it is called once, shared by concurrent callers, and again
 * only shortly before the credentials expire.
 */
export function refreshing(fetchCredentials: () => Promise<Credentials>, now: () => number = Date.now): () => Promise<Credentials> {
  let current: Credentials | undefined;
  let inFlight: Promise<Credentials> | undefined;
  return async () => {
    const fresh = current && (!current.expiration || current.expiration.getTime() - REFRESH_MARGIN_MS > now());
    if (fresh) return current!;
    inFlight ??= fetchCredentials().then(
      (c) => {
        current = c;
        inFlight = undefined;
        return c;
      },
      (e) => {
        inFlight = undefined;
        // Keep serving still-valid credentials when a refresh fails.
        if (current?.expiration && current.expiration.getTime() > now()) return current;
        throw e;
      },
    );
    return inFlight;
  };
}

/** Where the credentials came from, for the start-up log line. */
export type CredentialSource = "environment" | "shared-files" | "container" | "instance" | "none";

/**
 * Resolve the chain once at start-up. Static sources are read now (so a bad file is a
 * start-up error); metadata sources are tried lazily and refreshed before expiry.
 */
export async function resolveCredentialChain(env: Env, fetchFn: typeof fetch = fetch): Promise<{ provider: CredentialProvider; source: CredentialSource }> {
  const fromEnvironment = fromEnv(env);
  if (fromEnvironment) return { provider: async () => fromEnvironment, source: "environment" };
  const shared = await fromSharedFiles(env);
  if (shared) return { provider: async () => shared, source: "shared-files" };
  const container = containerProvider(env, fetchFn);
  if (container) return { provider: refreshing(container), source: "container" };
  const instance = instanceProvider(env, fetchFn);
  if (instance) {
    // Probe once: off EC2 the metadata address does not answer and requests go unsigned.
    const cached = refreshing(instance);
    try {
      await cached();
      return { provider: cached, source: "instance" };
    } catch {
      // Not on EC2.
    }
  }
  return { provider: async () => undefined, source: "none" };
}
