import { describe, expect, test } from "bun:test";
import { createConsola } from "consola";
import fc from "fast-check";
import { accessEntry, createAccessLog, formatAccessLine } from "../../src/ops/access-log.ts";
import { batchedLineWriter } from "../../src/ops/line-writer.ts";
import { bodyBytes } from "../../src/ops/metrics.ts";
import type { RequestRecord } from "../../src/proxy/request-record.ts";
import { parseOperation } from "../../src/s3/operation.ts";

const url = new URL("http://127.0.0.1:3000/bucket/dir/file%20one.parquet");
const op = parseOperation("GET", url, new Headers({ host: "127.0.0.1:3000", range: "bytes=0-99" }), { domains: [] });
const record: RequestRecord = { requestId: "ABCDEF0123456789", op, upstreamMs: 12.3456, cache: "MISS", identity: { accessKeyId: "AKIDCLIENT" } };
const response = new Response(new Uint8Array(100), { status: 206, headers: { "content-length": "100", "content-range": "bytes 0-99/1000" } });

describe("access log", () => {
  test("an entry carries request id, client key id, operation, bucket, key, range, status, bytes, cache result and both timings", () => {
    expect(accessEntry("GET", url.pathname, response, record, 15.6789)).toEqual({
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
    const bare = accessEntry("GET", "/", new Response(null, { status: 400 }), { requestId: "R" }, 1);
    expect(bare).toEqual({ requestId: "R", method: "GET", path: "/", status: 400, bytes: 0, ms: 1 });
  });

  test("the pretty line is the request line then key=value pairs, quoting values with spaces", () => {
    expect(formatAccessLine(accessEntry("GET", url.pathname, response, record, 15.6789))).toBe(
      'GET /bucket/dir/file%20one.parquet 206 requestId=ABCDEF0123456789 keyId=AKIDCLIENT op=GetObject bucket=bucket key="dir/file one.parquet" range="bytes=0-99" bytes=100 cache=MISS ms=15.68 upstreamMs=12.35',
    );
  });

  test("every value is written bare when logfmt allows it, else quoted exactly as JSON quotes it, whatever it holds", () => {
    const fields = ["keyId", "bucket", "key", "range"] as const;
    // The rule spelled out once, slowly: bare when no space, quote, equals sign or backslash. Any UTF-16 code unit, lone surrogates included.
    const reference = (v: string) => (/^[^\s"=\\]+$/.test(v) ? v : JSON.stringify(v));
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }), fc.string({ unit: "grapheme-ascii" }), (field, value, other) => {
        for (const v of [value, other]) {
          const line = formatAccessLine({ requestId: "R", method: "GET", path: "/", status: 200, ms: 1, [field]: v });
          expect(line).toContain(` ${field}=${reference(v)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("json format writes the fields as one JSON object per line; pretty writes the logfmt line", () => {
    const lines: string[] = [];
    const log = createConsola({ level: 3 });
    createAccessLog(log, "json", 1, (l) => lines.push(l))("GET", url.pathname, response, record, 1);
    createAccessLog(log, "pretty", 1, (l) => lines.push(l))("GET", url.pathname, response, record, 1);
    const json = JSON.parse(lines[0]!);
    expect(json.msg).toBe("GET /bucket/dir/file%20one.parquet 206");
    expect(json).toMatchObject({ level: "info", access: true, keyId: "AKIDCLIENT", key: "dir/file one.parquet", bytes: 100, cache: "MISS" });
    expect(lines[1]!.endsWith(`[info] ${formatAccessLine(accessEntry("GET", url.pathname, response, record, 1))}`)).toBe(true);
  });

  test("with hits sampled, one successful hit in N is written, carrying sample=N; misses, writes, errors and failed hits are all written", () => {
    const lines: string[] = [];
    const accessLog = createAccessLog(createConsola({ level: 3 }), "pretty", 4, (l) => lines.push(l));
    const hit: RequestRecord = { ...record, cache: "HIT" };
    const notFound = new Response(null, { status: 404 });
    for (let i = 0; i < 10; i++) accessLog("GET", url.pathname, response, hit, 1);
    accessLog("GET", url.pathname, response, record, 1); // a miss
    accessLog("GET", url.pathname, notFound, hit, 1); // a hit of a remembered 404
    accessLog("PUT", url.pathname, new Response(null, { status: 200 }), { requestId: "W" }, 1);
    const hitLines = lines.filter((l) => l.includes("cache=HIT") && l.includes(" 206 "));
    expect(hitLines).toHaveLength(2);
    expect(hitLines.every((l) => l.endsWith(" sample=4"))).toBe(true);
    expect(lines.filter((l) => l.includes("sample="))).toHaveLength(2);
    expect(lines).toHaveLength(5);
  });

  test("a share of 0 writes no successful hit at all, and the json line carries the sample too", () => {
    const lines: string[] = [];
    const hit: RequestRecord = { ...record, cache: "HIT" };
    const none = createAccessLog(createConsola({ level: 3 }), "json", Infinity, (l) => lines.push(l));
    for (let i = 0; i < 5; i++) none("GET", url.pathname, response, hit, 1);
    expect(lines).toHaveLength(0);
    const half = createAccessLog(createConsola({ level: 3 }), "json", 2, (l) => lines.push(l));
    for (let i = 0; i < 4; i++) half("GET", url.pathname, response, hit, 1);
    createAccessLog(createConsola({ level: 3 }), "json", 1, (l) => lines.push(l))("GET", url.pathname, response, hit, 1);
    expect(lines.map((l) => JSON.parse(l).sample)).toEqual([2, 2, undefined]);
  });

  test("nothing is logged below the info level", () => {
    const lines: string[] = [];
    createAccessLog(createConsola({ level: 1 }), "json", 1, (l) => lines.push(l))("GET", url.pathname, response, record, 1);
    expect(lines).toHaveLength(0);
  });

  test("lines are written in batches: one write per burst, flushed within the delay", async () => {
    const chunks: string[] = [];
    const write = batchedLineWriter((c) => chunks.push(c), 20);
    for (let i = 0; i < 100; i++) write(`line ${i}`);
    expect(chunks).toHaveLength(0);
    await Bun.sleep(40);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.split("\n").filter(Boolean)).toHaveLength(100);
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
