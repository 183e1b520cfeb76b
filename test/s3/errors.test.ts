import { describe, expect, test } from "bun:test";
import { ERROR_STATUS, renderError, S3Error } from "../../src/s3/errors.ts";
import { parseXml } from "../../src/s3/xml.ts";

const ctx = { requestId: "0123456789ABCDEF", resource: "/bucket/key", method: "GET" };

describe("renderError", () => {
  test("renders the S3 XML error document with code, message, resource and request id", async () => {
    const res = renderError(new S3Error("InvalidURI", "Couldn't parse the specified URI."), ctx);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/xml");
    expect(res.headers.get("x-amz-request-id")).toBe(ctx.requestId);
    const text = await res.text();
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?><Error>')).toBe(true);
    expect(parseXml(text)).toEqual({
      "?xml": "",
      Error: { Code: "InvalidURI", Message: "Couldn't parse the specified URI.", Resource: "/bucket/key", RequestId: ctx.requestId },
    });
  });

  test("escapes markup in messages and resources", async () => {
    const res = renderError(new S3Error("InvalidRequest", "a <b> & 'c'"), { ...ctx, resource: "/b/<k>&" });
    const text = await res.text();
    expect(text).not.toContain("<b>");
    expect(text).not.toContain("<k>");
    expect((parseXml(text)!.Error as Record<string, string>).Message).toBe("a <b> & 'c'");
    expect((parseXml(text)!.Error as Record<string, string>).Resource).toBe("/b/<k>&");
  });

  test("adds an error's extra elements and headers", async () => {
    const err = new S3Error("InvalidRange", "The requested range is not satisfiable", { RangeRequested: "bytes=9-" }, { "content-range": "bytes */5" });
    const res = renderError(err, ctx);
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("bytes */5");
    expect((parseXml(await res.text())!.Error as Record<string, string>).RangeRequested).toBe("bytes=9-");
  });

  test("answers HEAD with the status and request id but no body", async () => {
    const res = renderError(new S3Error("AccessDenied", "Access Denied"), { ...ctx, method: "HEAD" });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-amz-request-id")).toBe(ctx.requestId);
    expect(res.body).toBeNull();
  });

  test("answers 304 without a body", () => {
    expect(renderError(new S3Error("NotModified", "Not Modified"), ctx).body).toBeNull();
  });

  test("hides anything that is not an S3Error behind a 500 InternalError", async () => {
    const res = renderError(new Error("secret detail from a stack"), ctx);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toContain("<Code>InternalError</Code>");
    expect(text).not.toContain("secret detail");
  });

  test("gives every error code the status S3 uses", () => {
    const expected: Record<string, number> = {
      AccessDenied: 403,
      InvalidAccessKeyId: 403,
      SignatureDoesNotMatch: 403,
      RequestTimeTooSkewed: 403,
      AuthorizationHeaderMalformed: 400,
      XAmzContentSHA256Mismatch: 400,
      InvalidRange: 416,
      PreconditionFailed: 412,
      SlowDown: 503,
      ServiceUnavailable: 503,
      InternalError: 500,
      BadGateway: 502,
      GatewayTimeout: 504,
      MissingContentLength: 411,
      MethodNotAllowed: 405,
      InvalidURI: 400,
      IncompleteBody: 400,
    };
    for (const [code, status] of Object.entries(expected)) {
      expect([code, ERROR_STATUS[code as keyof typeof ERROR_STATUS] as number]).toEqual([code, status]);
      expect(new S3Error(code as keyof typeof ERROR_STATUS, "m").status).toBe(status);
    }
  });
});
