/**
 * Turn a backend response into the client's response: status, headers and bytes unchanged.
 *
 * Bun.serve drops a Content-Length set beside a streamed body and sends it chunked
 * (oven-sh/bun#10507), and Rust object_store (Polars) refuses GET answers without
 * Content-Length. So bodies up to a size limit are read whole and sent as bytes, which
 * Bun frames with an exact Content-Length; only larger ones are streamed. Reading whole takes
 * from a global byte budget, waiting for room, so buffering cannot grow memory without bound
 * under load and never trades the Content-Length away for it.
 */

import type { ByteBudget } from "../byte-budget.ts";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "date", "server", "proxy-connection", "trailer", "upgrade"]);

export interface RelayOptions {
  /** Largest body read whole so it can carry an exact Content-Length. */
  maxBufferedBody: number;
  /** Bytes of bodies being read whole, across all requests: a body waits for room, so it keeps its Content-Length under load too. */
  budget: ByteBudget;
}

export function copyResponseHeaders(from: Headers): Headers {
  const out = new Headers();
  from.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) out.append(name, value);
  });
  return out;
}

export interface Relayed {
  response: Response;
  /** The whole body, when it was small enough to be read (so a cache can learn it). */
  body?: Uint8Array;
}

export async function relayResponse(res: Response, method: string, opts: RelayOptions): Promise<Relayed> {
  const headers = copyResponseHeaders(res.headers);
  const declared = res.headers.get("content-length");
  if (method === "HEAD" || res.status === 204 || res.status === 304 || res.body === null) {
    // Bun keeps an explicit Content-Length on bodiless answers; HEAD must carry the object's size.
    if (declared !== null && method === "HEAD") headers.set("content-length", declared);
    await res.body?.cancel();
    return { response: new Response(null, { status: res.status, statusText: res.statusText, headers }) };
  }
  // Explicit, so the access log and metrics can read a body's size (Bun drops it on streamed bodies, see above).
  if (declared !== null) headers.set("content-length", declared);
  const length = declared === null ? NaN : Number(declared);
  if (Number.isSafeInteger(length) && length <= opts.maxBufferedBody) {
    const taken = await opts.budget.acquire(length);
    try {
      const bytes = await res.bytes();
      if (bytes.length !== length) throw new Error(`backend body was ${bytes.length} bytes, expected ${length}`);
      return { response: new Response(bytes, { status: res.status, statusText: res.statusText, headers }), body: bytes };
    } finally {
      opts.budget.release(taken);
    }
  }
  return { response: new Response(res.body, { status: res.status, statusText: res.statusText, headers }) };
}
