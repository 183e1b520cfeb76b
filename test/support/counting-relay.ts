/**
 * An HTTP relay between the proxy and the backend that records every request reaching the
 * backend, so tests can prove what the cache saved. Bytes pass through untouched.
 */
export interface SeenRequest {
  method: string;
  path: string;
  range: string | null;
  ifMatch: string | null;
  copySource: string | null;
}

export interface CountingRelay {
  endpoint: string;
  seen: SeenRequest[];
  /** Requests seen for one object key (path ends with it). */
  count(filter?: (r: SeenRequest) => boolean): number;
  reset(): void;
  stop(): Promise<void>;
}

export function startCountingRelay(backendEndpoint: string): CountingRelay {
  const seen: SeenRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      seen.push({ method: req.method, path: decodeURIComponent(url.pathname), range: req.headers.get("range"), ifMatch: req.headers.get("if-match"), copySource: req.headers.get("x-amz-copy-source") });
      const headers = new Headers(req.headers);
      headers.delete("host");
      const pass = async () => {
        const res = await fetch(backendEndpoint + url.pathname + url.search, {
          method: req.method,
          headers,
          body: req.body,
          decompress: false,
          duplex: "half",
        } as RequestInit);
        const body = req.method === "HEAD" ? null : await res.bytes();
        return new Response(body, { status: res.status, headers: res.headers });
      };
      // A pooled keep-alive connection the backend closed meanwhile resets: once more for reads,
      // so the relay's own plumbing never shows up as a backend failure.
      return pass().catch((err) => (req.method === "GET" || req.method === "HEAD" ? pass() : Promise.reject(err)));
    },
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    seen,
    count: (filter) => (filter ? seen.filter(filter).length : seen.length),
    reset: () => void seen.splice(0),
    stop: async () => void (await server.stop(true)),
  };
}
