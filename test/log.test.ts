import { describe, expect, test } from "bun:test";
import { createLogger, parseLogLevel } from "../src/log.ts";

describe("parseLogLevel", () => {
  test("accepts every plain level, in any case", () => {
    for (const level of ["error", "warn", "info", "debug", "trace"] as const) {
      expect(parseLogLevel(level)).toBe(level);
      expect(parseLogLevel(level.toUpperCase())).toBe(level);
    }
  });

  test("reads warning as warn", () => {
    expect(parseLogLevel("warning")).toBe("warn");
  });

  test("accepts RUST_LOG directives, taking the first level named", () => {
    expect(parseLogLevel("s3proxy=debug")).toBe("debug");
    expect(parseLogLevel("warn,hyper=info")).toBe("warn");
    expect(parseLogLevel("s3proxy::cache=trace,info")).toBe("trace");
    expect(parseLogLevel("bogus,s3proxy=error")).toBe("error");
  });

  test("returns undefined when no level can be read", () => {
    for (const v of ["", "loud", "s3proxy=verbose", "s3proxy", "=", "off"]) expect(parseLogLevel(v)).toBeUndefined();
  });
});

describe("createLogger", () => {
  test("maps each level so that lines below it are dropped", () => {
    expect(createLogger("error", "pretty").level).toBe(0);
    expect(createLogger("warn", "pretty").level).toBe(1);
    expect(createLogger("info", "pretty").level).toBe(3);
    expect(createLogger("debug", "pretty").level).toBe(4);
    expect(createLogger("trace", "pretty").level).toBe(5);
  });

  function capture(stream: NodeJS.WriteStream, fn: () => void): string[] {
    const lines: string[] = [];
    const write = stream.write;
    stream.write = ((chunk: string) => {
      lines.push(String(chunk));
      return true;
    }) as typeof stream.write;
    try {
      fn();
    } finally {
      stream.write = write;
    }
    return lines;
  }

  test("json format writes one JSON object per line with the message and fields, however they are passed", () => {
    const lines = capture(process.stderr, () => {
      const log = createLogger("info", "json");
      log.info("hello", { status: 200 });
      log.info({ message: "GET /b/k 200", bucket: "b", key: "k", bytes: 5, ms: 1.5, cache: undefined });
      log.debug("hidden");
    });
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((l) => JSON.parse(l));
    expect(first).toMatchObject({ level: "info", msg: "hello", status: 200 });
    expect(typeof first.time).toBe("string");
    expect(second).toEqual({ time: second.time, level: "info", msg: "GET /b/k 200", bucket: "b", key: "k", bytes: 5, ms: 1.5 });
  });

  test("pretty format appends the fields as key=value", () => {
    const out = capture(process.stderr, () => createLogger("info", "pretty").info({ message: "GET /b/k 200", key: "a b", status: 200, ms: 1.5 })).join("");
    expect(out).toContain("GET /b/k 200 key=a b status=200 ms=1.5");
  });
});
