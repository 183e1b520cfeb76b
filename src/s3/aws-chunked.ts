/**
 * Decoder for `Content-Encoding: aws-chunked` request bodies (streaming SigV4 uploads):
 *   hex-size[;chunk-signature=<64 hex>]\r\n<data>\r\n ... 0[;chunk-signature=…]\r\n[trailers\r\n]\r\n
 * Pure and incremental: bytes go in as they arrive, events come out. Verification of chunk
 * and trailer signatures hangs off these events (auth); forwarding uses only the data.
 */
import { S3Error } from "./errors.ts";
import { holdLastPiece } from "./hold-last-piece.ts";

export type ChunkEvent = { type: "chunk"; size: number; signature?: string } | { type: "data"; bytes: Uint8Array } | { type: "chunk-end" } | { type: "trailer"; name: string; value: string } | { type: "end" };

const MAX_LINE = 4096;
const MAX_CHUNK = 1 << 30;
const CR = 13;
const LF = 10;

function malformed(msg: string): S3Error {
  return new S3Error("IncompleteBody", `Malformed aws-chunked body: ${msg}`);
}

export class AwsChunkedDecoder {
  private state: "header" | "data" | "data-crlf" | "trailers" | "done" = "header";
  private line: number[] = [];
  private remaining = 0;
  private sawFinal = false;

  /** Feed bytes; returns the events they complete. Throws S3Error on malformed framing. */
  push(bytes: Uint8Array): ChunkEvent[] {
    const events: ChunkEvent[] = [];
    let i = 0;
    while (i < bytes.length) {
      if (this.state === "data") {
        const n = Math.min(this.remaining, bytes.length - i);
        events.push({ type: "data", bytes: bytes.subarray(i, i + n) });
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) this.state = "data-crlf";
        continue;
      }
      if (this.state === "done") throw malformed("data after the final chunk");
      const byte = bytes[i++]!;
      if (byte !== LF) {
        if (this.line.length >= MAX_LINE) throw malformed("line too long");
        this.line.push(byte);
        continue;
      }
      if (this.line[this.line.length - 1] !== CR) throw malformed("line not terminated by CRLF");
      const text = String.fromCharCode(...this.line.slice(0, -1));
      this.line = [];
      this.onLine(text, events);
    }
    return events;
  }

  /** Signal the end of input; throws when the body was cut short. */
  end(): ChunkEvent[] {
    if (this.state !== "done") throw new S3Error("IncompleteBody", "The request body terminated unexpectedly");
    return [];
  }

  private onLine(text: string, events: ChunkEvent[]): void {
    switch (this.state) {
      case "data-crlf":
        if (text !== "") throw malformed("chunk data longer than its declared size");
        events.push({ type: "chunk-end" });
        this.state = this.sawFinal ? "trailers" : "header";
        return;
      case "header": {
        const m = /^([0-9a-fA-F]{1,8})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(text);
        if (!m) throw malformed("bad chunk header");
        const size = parseInt(m[1]!, 16);
        if (size > MAX_CHUNK) throw malformed("chunk too large");
        events.push({ type: "chunk", size, signature: m[2] });
        if (size === 0) {
          this.sawFinal = true;
          events.push({ type: "chunk-end" });
          this.state = "trailers";
        } else {
          this.remaining = size;
          this.state = "data";
        }
        return;
      }
      case "trailers": {
        if (text === "") {
          this.state = "done";
          events.push({ type: "end" });
          return;
        }
        const colon = text.indexOf(":");
        if (colon <= 0) throw malformed("bad trailer line");
        events.push({ type: "trailer", name: text.slice(0, colon).trim().toLowerCase(), value: text.slice(colon + 1).trim() });
        return;
      }
      default:
        throw malformed("unexpected state");
    }
  }
}

/** Hooks that see each framing event, e.g. to verify chunk signatures or a trailing checksum. */
export type ChunkObserver = (event: ChunkEvent) => void | Promise<void>;

/**
 * Hold the decoded bytes to `x-amz-decoded-content-length`, which frames the backend request:
 * a mismatch is the client's error (400), not a failed upstream request.
 */
export function decodedLengthCheck(declared: number): ChunkObserver {
  let seen = 0;
  return (event) => {
    if (event.type === "data" && (seen += event.bytes.length) > declared) {
      throw new S3Error("InvalidRequest", "The aws-chunked body holds more bytes than x-amz-decoded-content-length declares.");
    }
    if (event.type === "end" && seen < declared) {
      throw new S3Error("IncompleteBody", "You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header.");
    }
  };
}

/**
 * Decode an aws-chunked body stream into the plain object bytes. A malformed or truncated
 * body, or an observer that throws, errors the stream, which aborts the upstream request so
 * the backend never stores a partial object. The last piece of data is held back until the
 * body has ended and every event has been observed: a failure found at the very end (the
 * final chunk's signature, the trailer) still arrives before the backend has every byte.
 */
export function decodeAwsChunkedStream(body: ReadableStream<Uint8Array>, observe?: ChunkObserver): ReadableStream<Uint8Array> {
  return holdLastPiece(decodePieces(body, observe));
}

/** The decoded data as it arrives; a framing error or a throwing observer errors the stream. */
function decodePieces(body: ReadableStream<Uint8Array>, observe?: ChunkObserver): ReadableStream<Uint8Array> {
  const decoder = new AwsChunkedDecoder();
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { value, done } = await reader.read();
        const events = done ? decoder.end() : decoder.push(value);
        let produced = false;
        for (const event of events) {
          if (observe) await observe(event);
          if (event.type === "data" && event.bytes.length > 0) {
            controller.enqueue(event.bytes);
            produced = true;
          }
        }
        if (done) {
          controller.close();
          return;
        }
        if (produced) return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
