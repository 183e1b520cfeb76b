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
  /** Header names lower-cased, values as sent. */
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface Recorder {
  endpoint: string;
  requests: RecordedRequest[];
  stop(): void;
}

const HEAD_END = new TextEncoder().encode("\r\n\r\n");

function indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Decode a chunked transfer-encoded body; undefined until it is complete. */
function dechunk(bytes: Uint8Array): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const eol = indexOf(bytes, HEAD_END.subarray(0, 2), at);
    if (eol === -1) return undefined;
    const size = parseInt(new TextDecoder().decode(bytes.subarray(at, eol)), 16);
    if (size === 0) return indexOf(bytes, HEAD_END, eol) === -1 ? undefined : Buffer.concat(parts);
    if (bytes.length < eol + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

export function startRecorder(): Recorder {
  const requests: RecordedRequest[] = [];
  const listener: TCPSocketListener<{ buf: Uint8Array }> = Bun.listen<{ buf: Uint8Array }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { buf: new Uint8Array(0) };
      },
      data(socket, chunk) {
        socket.data.buf = Buffer.concat([socket.data.buf, chunk]);
        const buf = socket.data.buf;
        const end = indexOf(buf, HEAD_END);
        if (end === -1) return;
        const [requestLine, ...lines] = new TextDecoder().decode(buf.subarray(0, end)).split("\r\n");
        const [method, target] = requestLine!.split(" ");
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const colon = line.indexOf(":");
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        const rest = buf.subarray(end + 4);
        let body: Uint8Array | undefined;
        if (headers["transfer-encoding"]?.includes("chunked")) body = dechunk(rest);
        else {
          const length = Number(headers["content-length"] ?? 0);
          body = rest.length >= length ? rest.subarray(0, length) : undefined;
        }
        if (body === undefined) return;
        requests.push({ method: method!, target: target!, headers, body: body.slice() });
        socket.data.buf = new Uint8Array(0);
        socket.end("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      },
    },
  });
  return { endpoint: `http://127.0.0.1:${listener.port}`, requests, stop: () => listener.stop(true) };
}
