/**
 * Assemble client authentication from the configuration: pick the mode when none was
 * given, load client keys (and reload them on SIGHUP), wire the STS exchanger. The one
 * auth module that touches the process (signals, files).
 */
import { ConfigError, type AuthConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import type { CredentialProvider, CredentialSource } from "../upstream/credentials.ts";
import { createAuthenticator, type Authenticate, type AuthMode, type KnownKey } from "./authenticate.ts";
import { ClientKeysError, ClientKeyStore } from "./client-keys.ts";
import { WebIdentityExchanger } from "./web-identity.ts";

export interface ClientAuth {
  mode: AuthMode;
  authenticate: Authenticate;
  /** Stop listening for SIGHUP. */
  close(): void;
}

export interface BackendCredentials {
  provider: CredentialProvider;
  source: CredentialSource;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** Where clients connect: tokens may cross plain HTTP only on loopback. */
export interface ListenerKind {
  host: string;
  tls: boolean;
}

export async function setupClientAuth(config: AuthConfig, backend: BackendCredentials, listener: ListenerKind, log: Logger): Promise<ClientAuth> {
  const host = listener.host;
  const hasKeys = config.clientKeys.length > 0 || config.clientKeysFile !== undefined;
  const mode: AuthMode | undefined = config.mode ?? (hasKeys ? "sigv4" : backend.source !== "none" ? "passthrough" : undefined);
  if (mode === undefined) {
    throw new ConfigError("auth", "no client keys and no backend credentials to verify clients with: configure --client-keys, backend credentials, or --auth none explicitly");
  }
  if (mode === "passthrough" && backend.source === "none") throw new ConfigError("auth", "passthrough needs backend credentials to verify clients with");
  if (mode === "none" && !isLoopback(host)) log.warn(`--auth none: anyone who can reach ${host} can use the backend with the proxy's credentials`);

  const debug = (message: string) => log.debug(message);
  const regions = config.regions;
  let close = () => {};
  let lookupKey: ((accessKeyId: string) => Promise<KnownKey | undefined>) | undefined;
  let webIdentity: WebIdentityExchanger | undefined;
  let refuseTokens = false;

  if (mode === "sigv4") {
    const file = config.clientKeysFile;
    const store = new ClientKeyStore(config.clientKeys, file === undefined ? undefined : { path: file, read: (p) => Bun.file(p).text() });
    try {
      await store.reload();
    } catch (err) {
      if (err instanceof ClientKeysError) throw new ConfigError("client-keys", err.message);
      throw err;
    }
    if (file !== undefined) {
      const onHangup = () => {
        store.reload().then(
          () => log.info(`client keys reloaded from ${file}: ${store.size} keys`),
          (err: Error) => log.error(`client keys not reloaded, previous keys stay in force: ${err.message}`),
        );
      };
      process.on("SIGHUP", onHangup);
      close = () => process.off("SIGHUP", onHangup);
    }
    lookupKey = async (id) => store.get(id);
  } else if (mode === "passthrough") {
    lookupKey = async (id) => {
      const c = await backend.provider();
      return c && c.accessKeyId === id ? { secretAccessKey: c.secretAccessKey } : undefined;
    };
  } else if (mode === "web-identity") {
    webIdentity = new WebIdentityExchanger({ stsEndpoint: config.stsEndpoint, roleArn: config.roleArn! });
    refuseTokens = !listener.tls && !isLoopback(host) && !config.allowInsecureTokens;
    if (refuseTokens) log.warn(`web-identity on plain HTTP at ${host}: requests carrying tokens are refused (serve TLS with --tls-cert/--tls-key, or pass --allow-insecure-tokens)`);
  }
  return { mode, authenticate: createAuthenticator({ mode, regions, lookupKey, webIdentity, refuseTokens, debug }), close: () => close() };
}
