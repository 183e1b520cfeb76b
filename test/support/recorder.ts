/**
 * A loopback HTTP/1.1 server that records each request exactly as it came off the socket
 * (request line, header names and values, body bytes) and answers 200 with an empty body.
 * Raw TCP on purpose: an HTTP server library could normalise the path before we see it.
 */
import type { TCPSocketListener } from "bun";

export interface RecordedRequest {
  method: string;
  /** The request target as sent: raw path and query, still percent-encoded. */
  target: string;
  /** Header names lower-cased, values as sent (trimmed). */
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface Recorder {
  endpoint: string;
  requests: RecordedRequest[];
  stop(): void;
}

/** Decode a chunked transfer-encoded body; undefined until it is complete. */
function dechunk(bytes: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = bytes.indexOf("\r\n", at);
    if (eol === -1) return undefined;
    const size = parseInt(bytes.subarray(at, eol).toString("latin1"), 16);
    // The last chunk is followed by optional trailers and an empty line.
    if (size === 0) return bytes.indexOf("\r\n\r\n", eol) === -1 ? undefined : Buffer.concat(parts);
    if (bytes.length < eol + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

export function startRecorder(): Recorder {
  const requests: RecordedRequest[] = [];
  const listener: TCPSocketListener<{ buf: Buffer }> = Bun.listen<{ buf: Buffer }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { buf: Buffer.alloc(0) };
      },
      data(socket, chunk) {
        const buf = (socket.data.buf = Buffer.concat([socket.data.buf, chunk]));
        const end = buf.indexOf("\r\n\r\n");
        if (end === -1) return;
        const [requestLine, ...lines] = buf.subarray(0, end).toString("latin1").split("\r\n");
        const [method, target] = requestLine!.split(" ");
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const colon = line.indexOf(":");
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        const rest = buf.subarray(end + 4);
        const length = Number(headers["content-length"] ?? 0);
        const body = headers["transfer-encoding"]?.includes("chunked") ? dechunk(rest) : rest.length >= length ? rest.subarray(0, length) : undefined;
        if (body === undefined) return;
        requests.push({ method: method!, target: target!, headers, body: new Uint8Array(body) });
        socket.data.buf = Buffer.alloc(0);
        socket.end("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      },
    },
  });
  return { endpoint: `http://127.0.0.1:${listener.port}`, requests, stop: () => listener.stop(true) };
}
