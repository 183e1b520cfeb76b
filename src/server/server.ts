/** The Bun.serve edge: the only module that touches Bun's HTTP server. */
import type { Server, TCPSocketListener } from "bun";
import type { Handler } from "../proxy/handler.ts";
import { nextRequestId } from "../proxy/request-id.ts";
import { renderError } from "../s3/errors.ts";
import type { TlsPair } from "./tls-pair.ts";

export interface ListenOptions {
  host: string;
  port: number;
  /** Serve HTTPS with this certificate and key (already checked, see tls-pair.ts). */
  tls?: TlsPair;
  /** Told of anything that escaped the handler (the client gets a bare 500 InternalError). */
  onError?: (err: unknown) => void;
}

/** A listening port, which may change sockets underneath when its certificate is replaced. */
export interface Listener {
  readonly url: URL;
  readonly port: number;
  /** Requests in progress, including those on a socket retired by a certificate change. */
  readonly pendingRequests: number;
  /** Serve new connections with this certificate; connections already open keep theirs. */
  replaceTls(tls: TlsPair): void;
  /** Stop listening; `closeActive` cuts requests in progress, else this waits for them. */
  stop(closeActive: boolean): Promise<void>;
}

/** S3 accepts single PUTs up to 5 GiB; leave room for aws-chunked framing. */
const MAX_REQUEST_BODY = 6 * 1024 ** 3;

function serve(handler: Handler, opts: ListenOptions, port: number): Server<undefined> {
  return Bun.serve({
    hostname: opts.host,
    port,
    tls: opts.tls,
    // Bun's reload({ tls }) keeps serving the old certificate (oven-sh/bun#43815): a new
    // certificate gets a new socket on the same port, which SO_REUSEPORT allows.
    reusePort: opts.tls !== undefined,
    maxRequestBodySize: MAX_REQUEST_BODY,
    // Seconds without traffic before a connection is dropped (Bun's maximum is 255).
    idleTimeout: 120,
    // Bun's development mode (its default unless NODE_ENV=production) answers an escaped
    // exception with an HTML page of source lines, file paths and the stack.
    development: false,
    error: (err) => {
      opts.onError?.(err);
      return renderError(err, { requestId: nextRequestId(), resource: "/", method: "GET" });
    },
    fetch: handler,
  });
}

/**
 * SO_REUSEPORT would also let a second proxy bind the port and silently share its
 * connections: a plain bind first makes a port already taken fail as it does without TLS.
 */
function claimPort(host: string, port: number): number {
  let probe: TCPSocketListener<undefined>;
  try {
    probe = Bun.listen({ hostname: host, port, socket: { data() {} } });
  } catch (err) {
    // Bun.serve's own words for a taken port, which the CLI turns into its --port line.
    if ((err as { code?: string }).code === "EADDRINUSE") throw new Error(`Failed to start server. Is port ${port} in use?`, { cause: err });
    throw err;
  }
  const claimed = probe.port;
  probe.stop(true);
  return claimed;
}

export function listen(handler: Handler, opts: ListenOptions): Listener {
  const port = opts.tls ? claimPort(opts.host, opts.port) : opts.port;
  let current = serve(handler, opts, port);
  const url = current.url;
  const retiring = new Set<Server<undefined>>();
  const retire = (server: Server<undefined>, closeActive: boolean) => {
    retiring.add(server);
    return server.stop(closeActive).finally(() => retiring.delete(server));
  };
  return {
    url,
    port: current.port!,
    get pendingRequests() {
      let n = current.pendingRequests;
      for (const s of retiring) n += s.pendingRequests;
      return n;
    },
    replaceTls(tls) {
      if (!opts.tls) throw new Error("this listener serves plain HTTP");
      const previous = current;
      // The new socket listens before the old one closes, so no connection is refused; the
      // old one stops accepting and lets its requests finish.
      const next = { ...opts, tls };
      current = serve(handler, next, port);
      opts = next;
      retire(previous, false).catch((err) => opts.onError?.(err));
    },
    async stop(closeActive) {
      const earlier = [...retiring];
      await Promise.all([retire(current, closeActive), ...earlier.map((s) => s.stop(closeActive))]);
    },
  };
}
