/**
 * --tls-cert / --tls-key on disk: read and checked at start-up (a ConfigError naming the
 * option, so the CLI exits 2), and again on SIGHUP, when a good pair replaces the served
 * certificate and a bad one leaves it in force with one log line.
 */
import { ConfigError, type TlsConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Listener } from "./server.ts";
import { checkTlsPair, TlsPairError, type CheckedTlsPair } from "./tls-pair.ts";

async function readPem(option: "tls-cert" | "tls-key", path: string): Promise<string> {
  try {
    return await Bun.file(path).text();
  } catch (err) {
    throw new ConfigError(option, `cannot read ${path} (${(err as { code?: string }).code ?? String(err)})`);
  }
}

export async function loadTlsPair(config: TlsConfig, now = new Date()): Promise<CheckedTlsPair> {
  const [cert, key] = await Promise.all([readPem("tls-cert", config.certFile), readPem("tls-key", config.keyFile)]);
  try {
    return checkTlsPair({ cert, key }, now);
  } catch (err) {
    if (err instanceof TlsPairError) throw new ConfigError(err.option, `${err.option === "tls-cert" ? config.certFile : config.keyFile}: ${err.message}`);
    throw err;
  }
}

export function describeTlsPair(pair: CheckedTlsPair): string {
  return `${pair.subject}, expires ${pair.notAfter.toISOString()}, sha256 ${pair.fingerprint256}`;
}

/** Reload on SIGHUP; returns the function that stops listening for it. */
export function reloadTlsOnHangup(config: TlsConfig, listener: Listener, log: Logger): () => void {
  const onHangup = () => {
    loadTlsPair(config)
      .then((pair) => {
        listener.replaceTls(pair);
        log.info(`TLS certificate reloaded from ${config.certFile}: ${describeTlsPair(pair)}`);
      })
      .catch((err: Error) => log.error(`TLS certificate not reloaded, the previous one stays in force: ${err.message}`));
  };
  process.on("SIGHUP", onHangup);
  return () => process.off("SIGHUP", onHangup);
}
