import { expect, test } from "bun:test";
import { listen } from "../../src/server/server.ts";
import { errorCodeOf, rawRequest } from "../support/raw-http.ts";

test("an exception that escapes the handler is a bare S3 InternalError, never Bun's page of source and stack", async () => {
  const escaped: unknown[] = [];
  const server = listen(
    async () => {
      throw new Error("boom at /secret/path/handler.ts");
    },
    { host: "127.0.0.1", port: 0, onError: (err) => escaped.push(err) },
  );
  try {
    for (const request of ["GET /b/k HTTP/1.1\r\nHost: x\r\n\r\n", "GET /b/k HTTP/1.0\r\n\r\n"]) {
      const { status, text } = await rawRequest(server.port!, request);
      expect(status).toBe(500);
      expect(errorCodeOf(text)).toBe("InternalError");
      expect(text).toMatch(/content-type: application\/xml/i);
      for (const leak of ["boom", "/secret/path", ".ts", "<html", "at "]) expect(text).not.toContain(leak);
    }
    expect(escaped.length).toBe(2);
  } finally {
    await server.stop(true);
  }
});
