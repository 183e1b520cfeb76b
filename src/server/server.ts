/** The Bun.serve edge: the only module that touches Bun's HTTP server. */
import type { Server } from "bun";
import type { Handler } from "../proxy/handler.ts";
import { nextRequestId } from "../proxy/request-id.ts";
import { renderError } from "../s3/errors.ts";

export interface ListenOptions {
  host: string;
  port: number;
  /** Told of anything that escaped the handler (the client gets a bare 500 InternalError). */
  onError?: (err: unknown) => void;
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
