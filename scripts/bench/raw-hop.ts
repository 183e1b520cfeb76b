/**
 * The forwarding floor: a bare Bun.serve that forwards each GET to the backend with Bun's
 * fetch, reads the body whole and answers with it (206 + Content-Range), doing nothing else:
 * no parsing, signing, authentication, cache or metrics. What a miss through ours adds beyond
 * this is ours; what this adds over going direct is any Bun proxy's on this machine.
 * Prints {"port":N} when listening.
 *
 *   bun scripts/bench/raw-hop.ts <backend endpoint>
 */
const upstream = process.argv[2]!;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const url = new URL(req.url);
    const range = req.headers.get("range");
    const res = await fetch(upstream + url.pathname + url.search, { headers: range ? { range } : {} });
    const headers: Record<string, string> = {};
    for (const name of ["content-range", "content-type", "etag", "last-modified"]) {
      const value = res.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    return new Response(await res.bytes(), { status: res.status, headers });
  },
});
console.log(JSON.stringify({ port: server.port }));
process.on("SIGTERM", () => process.exit(0));
