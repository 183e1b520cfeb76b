import { describe, expect, test } from "bun:test";
import { createConsola, type LogObject } from "consola";
import { accessEntry, createAccessLog, formatAccessLine } from "../../src/ops/access-log.ts";
import { bodyBytes } from "../../src/ops/metrics.ts";
import type { RequestRecord } from "../../src/proxy/handler.ts";
import { parseOperation } from "../../src/s3/operation.ts";

const url = new URL("http://127.0.0.1:3000/bucket/dir/file%20one.parquet");
const op = parseOperation("GET", url, new Headers({ host: "127.0.0.1:3000", range: "bytes=0-99" }), { domains: [] });
const record: RequestRecord = { requestId: "ABCDEF0123456789", op, upstreamMs: 12.3456, cache: "MISS", identity: { accessKeyId: "AKIDCLIENT" } };
const response = new Response(new Uint8Array(100), { status: 206, headers: { "content-length": "100", "content-range": "bytes 0-99/1000" } });

describe("access log", () => {
  test("an entry carries request id, client key id, operation, bucket, key, range, status, bytes, cache result and both timings", () => {
    expect(accessEntry("GET", url, response, record, 15.6789)).toEqual({
      requestId: "ABCDEF0123456789",
      keyId: "AKIDCLIENT",
      method: "GET",
      path: "/bucket/dir/file%20one.parquet",
      op: "GetObject",
      bucket: "bucket",
      key: "dir/file one.parquet",
      range: "bytes=0-99",
      status: 206,
      bytes: 100,
      cache: "MISS",
      ms: 15.68,
      upstreamMs: 12.35,
    });
  });

  test("fields a request does not have are left out, not logged as null", () => {
    const bare = accessEntry("GET", new URL("http://h/"), new Response(null, { status: 400 }), { requestId: "R" }, 1);
    expect(bare).toEqual({ requestId: "R", method: "GET", path: "/", status: 400, bytes: 0, ms: 1 });
  });

  test("the pretty line is the request line then key=value pairs, quoting values with spaces", () => {
    expect(formatAccessLine(accessEntry("GET", url, response, record, 15.6789))).toBe(
      'GET /bucket/dir/file%20one.parquet 206 requestId=ABCDEF0123456789 keyId=AKIDCLIENT op=GetObject bucket=bucket key="dir/file one.parquet" range="bytes=0-99" bytes=100 cache=MISS ms=15.68 upstreamMs=12.35',
    );
  });

  test("json format hands the logger the fields as one object (one JSON line); pretty hands it one string", () => {
    const seen: LogObject[] = [];
    const log = createConsola({ level: 3, reporters: [{ log: (e) => void seen.push(e) }] });
    createAccessLog(log, "json")("GET", url, response, record, 1);
    createAccessLog(log, "pretty")("GET", url, response, record, 1);
    expect(seen[0]!.args[0]).toBe("GET /bucket/dir/file%20one.parquet 206");
    expect(seen[0]!.args[1]).toMatchObject({ access: true, keyId: "AKIDCLIENT", key: "dir/file one.parquet", bytes: 100, cache: "MISS" });
    expect(seen[1]!.args).toEqual([formatAccessLine(accessEntry("GET", url, response, record, 1))]);
  });

  test("nothing is logged below the info level", () => {
    const seen: LogObject[] = [];
    const log = createConsola({ level: 1, reporters: [{ log: (e) => void seen.push(e) }] });
    createAccessLog(log, "json")("GET", url, response, record, 1);
    expect(seen).toHaveLength(0);
  });
});

describe("bodyBytes", () => {
  test("reads Content-Length, else the span of Content-Range, else 0 for no body and undefined for an unknown stream", () => {
    expect(bodyBytes(new Response("abc", { headers: { "content-length": "3" } }))).toBe(3);
    const stream = () => new ReadableStream({ start: (c) => c.close() });
    expect(bodyBytes(new Response(stream(), { status: 206, headers: { "content-range": "bytes 100-199/1000" } }))).toBe(100);
    expect(bodyBytes(new Response(null, { status: 304 }))).toBe(0);
    expect(bodyBytes(new Response(stream()))).toBeUndefined();
  });
});
