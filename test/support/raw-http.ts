/**
 * Raw HTTP/1.x over TCP, for requests no client library will send (no Host, `//` paths,
 * duplicate headers, byte soup). Resolves with the status line's code (0 when the connection
 * closed without an answer) and the raw answer.
 */
import type { Socket } from "bun";

export interface RawAnswer {
  status: number;
  text: string;
}

export function rawRequest(port: number, request: string | Uint8Array, timeoutMs = 3000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let text = "";
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    const timer = setTimeout(() => {
      finish();
      sock?.end();
    }, timeoutMs);
    let sock: Socket<undefined> | undefined;
    Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          sock = s;
          s.write(request);
        },
        data(_s, d) {
          text += new TextDecoder().decode(d);
          if (answerComplete(text)) {
            clearTimeout(timer);
            finish();
            _s.end();
          }
        },
        close() {
          clearTimeout(timer);
          finish();
        },
        error() {
          clearTimeout(timer);
          finish();
        },
      },
    }).catch(() => finish());
  });
}

/** Whether a raw HTTP answer has arrived whole (by Content-Length, or the last chunk). */
function answerComplete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) return false;
  const head = text.slice(0, end);
  if (/^HTTP\/1\.1 (1\d\d|204|304)/.test(head)) return true;
  const length = /content-length: (\d+)/i.exec(head);
  if (length) return Buffer.byteLength(text.slice(end + 4)) >= Number(length[1]);
  return /transfer-encoding: chunked/i.test(head) ? text.endsWith("0\r\n\r\n") : false;
}

/** The `<Code>` of an S3 error answer. */
export function errorCodeOf(text: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
}
