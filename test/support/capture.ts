/**
 * A loopback server that records every request exactly as Bun.serve hands it over (the
 * same edge the proxy sees) and answers like an empty S3 bucket, so real clients can be
 * pointed at it and their signed requests checked afterwards.
 */
export interface CapturedRequest {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

export interface CaptureServer {
  endpoint: string;
  requests: CapturedRequest[];
  stop(): Promise<void>;
}

const EMPTY_LIST = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`;

export function startCapture(): CaptureServer {
  const requests: CapturedRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const headers: Array<[string, string]> = [];
      for (const [k, v] of req.headers) headers.push([k, v]);
      requests.push({ method: req.method, url: req.url, headers, body: new Uint8Array(await req.arrayBuffer()) });
      const url = new URL(req.url);
      if (req.method === "GET" && url.searchParams.has("list-type")) return new Response(EMPTY_LIST, { headers: { "content-type": "application/xml" } });
      return new Response(req.method === "GET" ? "0123456789" : null, { headers: { etag: '"d41d8cd98f00b204e9800998ecf8427e"', "last-modified": new Date(0).toUTCString() } });
    },
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    requests,
    async stop() {
      await server.stop(true);
    },
  };
}
