import { describe, expect, test } from "bun:test";
import { ByteBudget } from "../../src/byte-budget.ts";
import { relayResponse as relayed } from "../../src/proxy/respond.ts";

/** The relayed response alone (the buffered body beside it is checked where it matters). */
const relayResponse = async (...args: Parameters<typeof relayed>) => (await relayed(...args)).response;

const opts = (limit = 1024, budget = 1 << 20) => ({ maxBufferedBody: limit, budget: new ByteBudget(budget) });

function streamed(bytes: Uint8Array, headers: Record<string, string>, status = 200): Response {
  return new Response(new Blob([bytes]).stream(), { status, headers });
}

/** The raw response head a real Bun.serve sends for a relayed answer. */
async function rawHead(res: Response, method = "GET"): Promise<string> {
  using server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => res });
  let text = "";
  const { promise, resolve } = Promise.withResolvers<void>();
  const socket = await Bun.connect({ hostname: "127.0.0.1", port: server.port!, socket: { data: (_, d) => void (text += d.toString("latin1")), close: () => resolve() } });
  socket.write(`${method} / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  await promise;
  return text.slice(0, text.indexOf("\r\n\r\n")).toLowerCase();
}

describe("relayResponse", () => {
  test("passes status and headers through, dropping hop-by-hop ones", async () => {
    const res = await relayResponse(
      streamed(new Uint8Array(10), { etag: '"e"', "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT", "x-amz-meta-a": "b", "content-range": "bytes 0-9/100", connection: "keep-alive", "keep-alive": "timeout=5", "content-length": "10" }, 206),
      "GET",
      opts(),
    );
    expect(res.status).toBe(206);
    expect(Object.fromEntries(res.headers)).toMatchObject({ etag: '"e"', "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT", "x-amz-meta-a": "b", "content-range": "bytes 0-9/100" });
    expect(res.headers.has("connection")).toBe(false);
    expect(res.headers.has("keep-alive")).toBe(false);
  });

  test("a body within the limit goes out with an exact Content-Length from a real server", async () => {
    const bytes = new Uint8Array(1000).fill(7);
    const res = await relayResponse(streamed(bytes, { "content-length": "1000" }), "GET", opts());
    expect(new Uint8Array(await res.clone().arrayBuffer())).toEqual(bytes);
    const head = await rawHead(res);
    expect(head).toContain("content-length: 1000");
    expect(head).not.toContain("transfer-encoding");
  });

  test("HEAD keeps the backend's Content-Length, with no body, from a real server", async () => {
    const res = await relayResponse(new Response(null, { headers: { "content-length": "123456789", etag: '"e"' } }), "HEAD", opts());
    expect(res.body).toBeNull();
    expect(await rawHead(res, "HEAD")).toContain("content-length: 123456789");
  });

  test("a body over the limit streams through unchanged", async () => {
    const bytes = new Uint8Array(5000).fill(9);
    const res = await relayResponse(streamed(bytes, { "content-length": "5000" }), "GET", opts(1024));
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  test("a body waits for room in the global budget, then is read whole and keeps its exact Content-Length", async () => {
    const budget = new ByteBudget(1500);
    // The first body is still arriving: it holds 1000 of the 1500 bytes.
    let send!: ReadableStreamDefaultController<Uint8Array>;
    const slow = new Response(new ReadableStream<Uint8Array>({ start: (c) => void (send = c) }), { headers: { "content-length": "1000" } });
    const first = relayResponse(slow, "GET", { maxBufferedBody: 1024, budget });
    expect(budget.inUse).toBe(1000);
    const second = relayResponse(streamed(new Uint8Array(1000).fill(7), { "content-length": "1000" }), "GET", { maxBufferedBody: 1024, budget });
    await Promise.resolve();
    expect(budget.inUse).toBe(1000); // the second waits rather than streaming without a length
    send.enqueue(new Uint8Array(1000));
    send.close();
    await first;
    const res = await second;
    expect(await rawHead(res)).toContain("content-length: 1000");
    expect(budget.inUse).toBe(0);
    expect(budget.bytesAdmitted).toBe(2000);
  });

  test("a backend body shorter than its Content-Length is an error, not a short answer", async () => {
    const lying = new Response(new Blob([new Uint8Array(10)]).stream(), { headers: { "content-length": "20" } });
    await expect(relayResponse(lying, "GET", opts())).rejects.toThrow("expected 20");
  });

  test("304 and 204 answers carry no body", async () => {
    expect((await relayResponse(new Response(null, { status: 304, headers: { etag: '"e"' } }), "GET", opts())).body).toBeNull();
    expect((await relayResponse(new Response(null, { status: 204 }), "DELETE", opts())).status).toBe(204);
  });
});
