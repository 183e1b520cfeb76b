/** The Bun.serve edge: the only module that touches Bun's HTTP server. */
import type { Server } from "bun";
import type { Handler } from "../proxy/handler.ts";

export interface ListenOptions {
  host: string;
  port: number;
}

/** S3 accepts single PUTs up to 5 GiB; leave room for aws-chunked framing. */
const MAX_REQUEST_BODY = 6 * 1024 ** 3;

export function listen(handler: Handler, opts: ListenOptions): Server<undefined> {
  return Bun.serve({
    hostname: opts.host,
    port: opts.port,
    maxRequestBodySize: MAX_REQUEST_BODY,
    // Seconds without traffic before a connection is dropped (Bun's maximum is 255).
    idleTimeout: 120,
    fetch: handler,
  });
}
