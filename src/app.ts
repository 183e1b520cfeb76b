/** Assemble a running proxy from a resolved configuration: credentials, upstream client, handler, server. */
import type { Server } from "bun";
import type { AuthMode } from "./auth/authenticate.ts";
import { setupClientAuth } from "./auth/setup.ts";
import type { Config, Env } from "./config.ts";
import type { Logger } from "./log.ts";
import { createHandler, type Handler } from "./proxy/handler.ts";
import { BufferBudget } from "./proxy/respond.ts";
import { listen } from "./server/server.ts";
import { UpstreamClient } from "./upstream/client.ts";
import { resolveCredentialChain, type CredentialSource } from "./upstream/credentials.ts";

export interface Proxy {
  server: Server<undefined>;
  url: URL;
  handler: Handler;
  credentialSource: CredentialSource;
  authMode: AuthMode;
  stop(): Promise<void>;
}

/** Bodies up to this size are buffered so they carry an exact Content-Length (see respond.ts). */
const MAX_BUFFERED_BODY = 64 * 1024 ** 2;
const BUFFER_BUDGET = 512 * 1024 ** 2;

export async function startProxy(config: Config, env: Env, log: Logger): Promise<Proxy> {
  const { provider, source } = await resolveCredentialChain(env);
  if (source === "none") log.warn("no backend credentials found: requests are forwarded unsigned (public buckets only)");
  const auth = await setupClientAuth(config.auth, { provider, source }, config.host, log);
  const upstream = new UpstreamClient({ endpoint: config.endpoint, region: config.region, credentials: provider });
  const handler = createHandler({
    upstream,
    authenticate: auth.authenticate,
    parse: { domains: config.domains },
    relay: { maxBufferedBody: MAX_BUFFERED_BODY, budget: new BufferBudget(BUFFER_BUDGET) },
    log,
  });
  const server = listen(handler, { host: config.host, port: config.port });
  return {
    server,
    url: server.url,
    handler,
    credentialSource: source,
    authMode: auth.mode,
    async stop() {
      auth.close();
      await server.stop(true);
    },
  };
}
