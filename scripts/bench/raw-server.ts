/**
 * The ceiling: a bare Bun.serve answering every range GET with a fixed in-memory body of the
 * asked length (206 + Content-Range), doing nothing else. No Bun server can beat it on this
 * machine; ours is measured as a fraction of it. Prints {"port":N} when listening.
 */
const OBJECT_SIZE = 1024 ** 3;
const bodies = new Map<number, Uint8Array>();

function body(length: number): Uint8Array {
  let b = bodies.get(length);
  if (!b) bodies.set(length, (b = new Uint8Array(length).fill(0x61)));
  return b;
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.get("range") ?? "");
    if (!m) return new Response(body(64 * 1024));
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), OBJECT_SIZE - 1);
    return new Response(body(end - start + 1), {
      status: 206,
      headers: { "content-range": `bytes ${start}-${end}/${OBJECT_SIZE}`, "content-type": "application/octet-stream" },
    });
  },
});
console.log(JSON.stringify({ port: server.port }));
process.on("SIGTERM", () => process.exit(0));
