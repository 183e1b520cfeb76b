/**
 * A minimal, correct S3 backend for path-style object requests (GET, HEAD, PUT, DELETE; no
 * signature check: any credentials pass), answering from s3-model.ts. It records every
 * state each key has been in with the times it was current, so a checker can tell which
 * answers a cache was allowed to give, and it injects faults the driver sets per key: a
 * forced error status, a slow first byte, a stall longer than the proxy's first-byte
 * timeout, or a body cut off halfway (the connection breaks after half the bytes; once per
 * fault, so the read that asks again gets a whole answer). A test tool, not product code.
 */
import type { Server } from "bun";
import { answer, errorXml, objectState, type ObjectState } from "./s3-model.ts";

/** One state of a key (undefined: absent) and when it was current, in performance.now() time. */
export interface Era {
  state: ObjectState | undefined;
  from: number;
  /** Infinity while current. */
  to: number;
}

export type Fault = { kind: "status"; status: 403 | 500 | 503 } | { kind: "delay"; ms: number } | { kind: "cut" };

const FAULT_CODES: Record<number, string> = { 403: "AccessDenied", 500: "InternalError", 503: "SlowDown" };

export interface ReferenceBackend {
  endpoint: string;
  /** Write or delete a key directly, as another client of the backend would. */
  put(path: string, bytes: Uint8Array): ObjectState;
  delete(path: string): void;
  current(path: string): ObjectState | undefined;
  /** The states of a key current at some moment in [from, to]. */
  statesWithin(path: string, from: number, to: number): Array<ObjectState | undefined>;
  /** Bodies cut off halfway so far. */
  readonly cuts: number;
  /** Faults apply to GET and HEAD of that key until cleared (undefined); a cut, to the next GET only. */
  setFault(path: string, fault: Fault | undefined): void;
  /** Forget keys no longer used, so a long fuzz run does not grow without bound. */
  forget(prefix: string): void;
  stop(): Promise<void>;
}

export function startReferenceBackend(): ReferenceBackend {
  const history = new Map<string, Era[]>();
  const faults = new Map<string, Fault>();
  let cuts = 0;
  let lastModifiedMs = 0;

  const current = (path: string) => history.get(path)?.at(-1)?.state;
  const record = (path: string, state: ObjectState | undefined) => {
    const eras = history.get(path) ?? [{ state: undefined, from: -Infinity, to: Infinity }];
    const now = performance.now();
    eras.at(-1)!.to = now;
    eras.push({ state, from: now, to: Infinity });
    history.set(path, eras);
  };
  const put = (path: string, bytes: Uint8Array) => {
    // Last-Modified never goes backwards, even if the wall clock does.
    lastModifiedMs = Math.max(lastModifiedMs, Date.now());
    const state = objectState(bytes, lastModifiedMs);
    record(path, state);
    return state;
  };

  const respond = (a: { status: number; headers: Record<string, string | undefined>; body: Uint8Array; code?: string }, method: string) => {
    const headers = new Headers({ "accept-ranges": "bytes", "content-type": a.code ? "application/xml" : "application/octet-stream" });
    for (const [k, v] of Object.entries(a.headers)) if (v !== undefined) headers.set(k, v);
    // A HEAD keeps the Content-Length set here; a byte body gets an exact one from Bun.
    if (method === "HEAD") return new Response(null, { status: a.status, headers });
    headers.delete("content-length");
    return new Response(a.status === 304 ? null : a.body, { status: a.status, headers });
  };

  /** The answer's status and headers with `body` broken off after half its bytes (sent chunked: Bun drops the length of a streamed body). */
  const cutOff = (res: Response, body: Uint8Array): Response => {
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Erroring the stream resets the connection mid-body; with no reason given Bun logs nothing.
        if (sent) return controller.error(undefined);
        controller.enqueue(body.subarray(0, body.length >> 1));
        sent = true;
      },
    });
    return new Response(stream, { status: res.status, headers: res.headers });
  };

  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    development: false,
    error: (err) => new Response(errorXml("InternalError", String(err)), { status: 500 }),
    async fetch(req) {
      const path = decodeURIComponent(new URL(req.url).pathname.slice(1));
      if (!/^[^/]+\/.+/.test(path)) return new Response(errorXml("NotImplemented", "object requests only"), { status: 501 });
      switch (req.method) {
        case "PUT":
          put(path, await req.bytes());
          return new Response(null, { status: 200, headers: { etag: current(path)!.etag } });
        case "DELETE":
          if (current(path)) record(path, undefined);
          return new Response(null, { status: 204 });
        case "GET":
        case "HEAD": {
          const fault = faults.get(path);
          if (fault?.kind === "delay") await Bun.sleep(fault.ms);
          if (fault?.kind === "status") {
            const code = FAULT_CODES[fault.status]!;
            return respond({ status: fault.status, headers: {}, body: errorXml(code, code), code }, req.method);
          }
          // The state is read after any delay: what the backend holds when it answers.
          const a = answer(current(path), req.method, req.headers);
          if (fault?.kind === "cut" && req.method === "GET" && a.body.length >= 2) {
            // Once per fault: the read that retries gets a whole answer.
            faults.delete(path);
            cuts++;
            return cutOff(respond(a, req.method), a.body);
          }
          return respond(a, req.method);
        }
        default:
          return new Response(errorXml("MethodNotAllowed", req.method), { status: 405 });
      }
    },
  });

  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    put,
    delete: (path) => {
      if (current(path)) record(path, undefined);
    },
    current,
    statesWithin(path, from, to) {
      const eras = history.get(path) ?? [{ state: undefined, from: -Infinity, to: Infinity }];
      return eras.filter((e) => e.from <= to && e.to >= from).map((e) => e.state);
    },
    setFault(path, fault) {
      if (fault) faults.set(path, fault);
      else faults.delete(path);
    },
    forget(prefix) {
      for (const path of history.keys()) if (path.startsWith(prefix)) history.delete(path);
    },
    get cuts() {
      return cuts;
    },
    stop: () => server.stop(true),
  };
}
