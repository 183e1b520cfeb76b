/** Start the proxy in-process on a free loopback port in front of a backend. */
import { startProxy, type Proxy as RunningProxy } from "../../src/app.ts";
import { resolveConfig, type Flags } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import type { Backend } from "./backend.ts";

export interface TestProxy extends RunningProxy {
  endpoint: string;
}

/**
 * Suites that are not about client authentication send raw, unsigned requests: they get
 * `--auth none` unless they name an auth flag (an `auth: undefined` entry asks for the
 * mode the proxy would choose by itself).
 */
function noAuthUnlessAsked(flags: Flags): Flags {
  const asked = "auth" in flags || flags["client-keys"] !== undefined || flags["client-keys-inline"] !== undefined;
  return asked ? {} : { auth: "none" };
}

export async function startTestProxy(backend: Pick<Backend, "endpoint" | "accessKeyId" | "secretAccessKey" | "region">, flags: Flags = {}): Promise<TestProxy> {
  const env = {
    AWS_ACCESS_KEY_ID: backend.accessKeyId,
    AWS_SECRET_ACCESS_KEY: backend.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: "true",
  };
  const config = resolveConfig({ endpoint: backend.endpoint, host: "127.0.0.1", port: "0", region: backend.region, ...noAuthUnlessAsked(flags), ...flags }, env);
  const log = createLogger(process.env.S3PROXY_TEST_LOG ? config.logLevel : "error", config.logFormat);
  const proxy = await startProxy(config, env, log);
  return Object.assign(proxy, { endpoint: `${proxy.url.protocol}//127.0.0.1:${proxy.server.port}` });
}
