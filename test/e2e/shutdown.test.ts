/**
 * Graceful shutdown of the real process: a 100 MiB GET in flight when SIGTERM arrives
 * completes byte-exact, new connections are refused meanwhile, and the process exits 0.
 * The client holds the transfer mid-way (it stops reading; TCP backpressure stalls the
 * proxy), so the signal provably lands while the request is in flight.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import net from "node:net";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { spawnProxy } from "../support/spawned-proxy.ts";

const SIZE = 100 * 1024 ** 2;
const KEY = "big/hundred-mib.bin";
const body = randomBytes(SIZE, 42);
const digest = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
  const direct = sdkClient(backend.endpoint, backend);
  await direct.send(new PutObjectCommand({ Bucket: backend.bucket, Key: KEY, Body: body }));
  direct.destroy();
}, 60_000); // storing 100 MiB in s3rver takes a few seconds on a busy machine
afterAll(async () => {
  await backend.stop();
});

/** A raw HTTP/1.1 GET whose reading can be paused, so the transfer is held in flight. */
function heldGet(port: number, pathAndQuery: string) {
  const socket = net.connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  let received = 0;
  let onProgress: (() => void) | undefined;
  socket.on("data", (d: Buffer) => {
    chunks.push(d);
    received += d.length;
    onProgress?.();
  });
  const ended = new Promise<Buffer>((resolve, reject) => {
    socket.on("end", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
  });
  socket.write(`GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  return {
    /** Pause reading once at least `bytes` have arrived. */
    holdAfter: (bytes: number) =>
      new Promise<void>((resolve) => {
        onProgress = () => {
          if (received < bytes) return;
          onProgress = undefined;
          socket.pause();
          resolve();
        };
        onProgress();
      }),
    resume: () => socket.resume(),
    ended,
  };
}

/** Split a raw HTTP/1.1 response into status, headers and the (de-chunked) body. */
function parseResponse(raw: Buffer) {
  const headEnd = raw.indexOf("\r\n\r\n");
  const head = raw.subarray(0, headEnd).toString("latin1").split("\r\n");
  const headers = new Headers(head.slice(1).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()] as [string, string]));
  let rest = raw.subarray(headEnd + 4);
  if (headers.get("transfer-encoding") !== "chunked") return { status: Number(head[0]!.split(" ")[1]), headers, body: new Uint8Array(rest) };
  const parts: Buffer[] = [];
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    const size = parseInt(rest.subarray(0, lineEnd).toString("latin1"), 16);
    if (lineEnd < 0 || !(size > 0)) break; // the end, or a body cut short
    parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
    rest = rest.subarray(lineEnd + 2 + size + 2);
  }
  return { status: Number(head[0]!.split(" ")[1]), headers, body: new Uint8Array(Buffer.concat(parts)) };
}

function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.on("connect", () => {
      s.destroy();
      resolve("connected");
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

async function presignedPath(endpoint: string): Promise<string> {
  const client = sdkClient(endpoint, backend);
  const url = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: backend.bucket, Key: KEY })));
  client.destroy();
  return url.pathname + url.search;
}

/** A proxy process with a presigned GET of the 100 MiB object through it, held after its first MiB. */
async function proxyWithHeldGet(args: string[], opts: { bunRun?: boolean } = {}) {
  const proxy = await spawnProxy(backend, args, opts);
  const get = heldGet(proxy.port, await presignedPath(proxy.endpoint));
  await get.holdAfter(1024 ** 2);
  return { proxy, get };
}

/** Let the held GET go on; it must end as the whole object, byte-exact. */
async function expectCompletes(get: ReturnType<typeof heldGet>) {
  get.resume();
  const res = parseResponse(await get.ended);
  expect([res.status, res.body.byteLength]).toEqual([200, SIZE]);
  expect(digest(res.body)).toBe(digest(body));
  return res;
}

describe("graceful shutdown of the proxy process", () => {
  test("SIGTERM during a 100 MiB GET: the GET completes byte-exact, new connections are refused, exit status 0", async () => {
    const { proxy, get } = await proxyWithHeldGet(["--no-cache", "--log-format", "json"]);
    try {
      proxy.proc.kill("SIGTERM");
      await proxy.waitForLine(/SIGTERM: shutting down/);
      expect(await connectOutcome(proxy.port)).toBe("ECONNREFUSED");

      const res = await expectCompletes(get);
      expect(await proxy.proc.exited).toBe(0);

      // The access log line of that GET, as one JSON object.
      const access = proxy.lines.map((l) => JSON.parse(l)).find((e) => e.access && e.op === "GetObject");
      expect(access).toMatchObject({ level: "info", status: 200, bucket: backend.bucket, key: KEY, bytes: SIZE, requestId: res.headers.get("x-amz-request-id") });
      expect(access.ms).toBeNumber();
      expect(access.upstreamMs).toBeNumber();
    } finally {
      proxy.proc.kill("SIGKILL");
    }
  }, 60_000);

  test("SIGTERM to the process group of `bun run start` (bun forwards it: the proxy gets it twice) is one request to stop: the held GET completes", async () => {
    const { proxy, get } = await proxyWithHeldGet(["--no-cache", "--log-level", "debug"], { bunRun: true });
    const group = -proxy.proc.pid;
    try {
      // What a terminal's Ctrl-C or `kill -TERM -<pgid>` does. (Two kills in a row from the
      // test itself would not show it: the kernel merges a signal already pending.)
      process.kill(group, "SIGTERM");
      await proxy.waitForLine(/SIGTERM: shutting down/);
      await expectCompletes(get);
      expect(await proxy.proc.exited).toBe(0);
    } finally {
      try {
        process.kill(group, "SIGKILL");
      } catch {} // the group is gone: it exited
    }
  }, 60_000);

  test("a later, deliberate second signal exits at once, without waiting for the held GET", async () => {
    const { proxy, get } = await proxyWithHeldGet(["--no-cache", "--log-level", "debug"]);
    try {
      proxy.proc.kill("SIGTERM");
      await proxy.waitForLine(/a further SIGTERM or SIGINT now exits at once/);
      proxy.proc.kill("SIGTERM");
      expect(await proxy.proc.exited).toBe(143);
      get.resume();
      const raw = await get.ended.catch(() => Buffer.alloc(0));
      expect(raw.byteLength).toBeLessThan(SIZE);
    } finally {
      proxy.proc.kill("SIGKILL");
    }
  }, 60_000);
});
