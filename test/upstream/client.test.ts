/**
 * The outbound signature, proven independently: requests are recorded byte-exact off a
 * loopback socket and their SigV4 signatures recomputed with botocore (Debian's
 * python3-botocore, a separate implementation of the signer).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import type { QueryParam } from "../../src/s3/uri.ts";
import { UpstreamClient } from "../../src/upstream/client.ts";
import type { Credentials } from "../../src/upstream/credentials.ts";
import { startBackend, type Backend } from "../support/backend.ts";
import { randomBytes, sdkClient } from "../support/clients.ts";
import { startTestProxy } from "../support/proxy.ts";
import { startRecorder, type RecordedRequest, type Recorder } from "../support/recorder.ts";

const PYTHON = "/usr/bin/python3";
const BOTOCORE_SIGNER = join(import.meta.dir, "../support/botocore-sigv4.py");

const KEYS: Credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const TEMP_KEYS: Credentials = { accessKeyId: "ASIATEMP", secretAccessKey: "temp/secret+key", sessionToken: "session//token+==" };

interface Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(value: string): Authorization {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(value);
  if (!m) throw new Error(`not a SigV4 authorization header: ${value}`);
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, signedHeaders: m[4]!.split(";"), signature: m[5]! };
}

/** One botocore process for the suite: a JSON list per line in, a JSON list per line out. */
class Botocore {
  private readonly proc = Bun.spawn([PYTHON, BOTOCORE_SIGNER], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  private readonly lines = this.proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  private buffered = "";

  async sign(input: unknown[]): Promise<Array<{ signature: string; canonicalRequest: string }>> {
    this.proc.stdin.write(JSON.stringify(input) + "\n");
    await this.proc.stdin.flush();
    while (!this.buffered.includes("\n")) {
      const { value, done } = await this.lines.read();
      if (done) throw new Error("botocore signer exited");
      this.buffered += value;
    }
    const newline = this.buffered.indexOf("\n");
    const line = this.buffered.slice(0, newline);
    this.buffered = this.buffered.slice(newline + 1);
    return JSON.parse(line);
  }

  stop() {
    this.proc.stdin.end();
    this.proc.kill();
  }
}

let botocore: Botocore;

/** botocore's signature for each recorded request, given the secret it should have used. */
async function botocoreSignatures(recorded: Array<{ req: RecordedRequest; creds: Credentials }>): Promise<Array<{ signature: string; canonicalRequest: string }>> {
  return botocore.sign(
    recorded.map(({ req, creds }) => {
      const auth = parseAuthorization(req.headers.authorization!);
      return {
        method: req.method,
        target: req.target,
        host: req.headers.host,
        headers: req.headers,
        signedHeaders: auth.signedHeaders,
        amzDate: req.headers["x-amz-date"],
        region: auth.region,
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        sessionToken: creds.sessionToken,
      };
    }),
  );
}

async function expectBotocoreAgrees(recorded: Array<{ req: RecordedRequest; creds: Credentials }>) {
  const expected = await botocoreSignatures(recorded);
  recorded.forEach(({ req }, i) => {
    const auth = parseAuthorization(req.headers.authorization!);
    expect({ target: req.target, signature: auth.signature }).toEqual({ target: req.target, signature: expected[i]!.signature });
  });
}

let recorder: Recorder;
beforeAll(() => {
  recorder = startRecorder();
  botocore = new Botocore();
});
afterAll(() => {
  recorder.stop();
  botocore.stop();
});

function clientFor(endpoint: string, creds: Credentials | undefined, region = "us-east-1") {
  return new UpstreamClient({ endpoint: new URL(endpoint), region, credentials: async () => creds });
}

async function send(client: UpstreamClient, req: { method: string; bucket?: string; key?: string; query?: QueryParam[]; headers?: Record<string, string>; body?: Uint8Array | ReadableStream<Uint8Array> }) {
  const before = recorder.requests.length;
  const res = await client.send({ method: req.method, bucket: req.bucket, key: req.key, query: req.query ?? [], headers: new Headers(req.headers ?? {}), body: req.body });
  await res.arrayBuffer();
  expect(recorder.requests.length).toBe(before + 1);
  return recorder.requests.at(-1)!;
}

const AWKWARD_KEYS: Array<[key: string, wirePath: string]> = [
  ["with space.bin", "/bucket/with%20space.bin"],
  ["plus+sign", "/bucket/plus%2Bsign"],
  ["percent%25 and %", "/bucket/percent%2525%20and%20%25"],
  ["unicodé/日本語.parquet", "/bucket/unicod%C3%A9/%E6%97%A5%E6%9C%AC%E8%AA%9E.parquet"],
  ["tilde~and=equals&amp", "/bucket/tilde~and%3Dequals%26amp"],
  ["sub-delims!'()*,;:@$", "/bucket/sub-delims%21%27%28%29%2A%2C%3B%3A%40%24"],
  ["double//slash/and/trailing/", "/bucket/double//slash/and/trailing/"],
  ["hash#question?bracket[]", "/bucket/hash%23question%3Fbracket%5B%5D"],
  ["x".repeat(1024), "/bucket/" + "x".repeat(1024)],
];

describe("outbound requests are signed exactly as sent", () => {
  test("awkward keys go on the wire encoded once, and botocore computes the same signature", async () => {
    const client = clientFor(recorder.endpoint, KEYS);
    const recorded = [];
    for (const [key, wirePath] of AWKWARD_KEYS) {
      const req = await send(client, { method: "GET", bucket: "bucket", key });
      expect(req.target).toBe(wirePath);
      recorded.push({ req, creds: KEYS });
    }
    await expectBotocoreAgrees(recorded);
  });

  test("query strings with empty values, repeated names and reserved characters", async () => {
    const client = clientFor(recorder.endpoint, KEYS);
    const queries: QueryParam[][] = [
      [["uploads", ""]],
      [
        ["list-type", "2"],
        ["prefix", "dir with space/+plus"],
        ["delimiter", "/"],
        ["start-after", "日本"],
      ],
      [
        ["b", "2"],
        ["a", ""],
        ["b", "1"],
        ["b", ""],
      ],
      [
        ["tagging", ""],
        ["versionId", "v=1&x"],
      ],
      [
        ["response-content-disposition", 'attachment; filename="a b.txt"'],
        ["x-id", "GetObject"],
      ],
      [
        ["partNumber", "3"],
        ["uploadId", "VXBsb2FkIElE~_.-="],
      ],
    ];
    const recorded = [];
    for (const query of queries) recorded.push({ req: await send(client, { method: "GET", bucket: "bucket", key: "k", query }), creds: KEYS });
    expect(recorded[0]!.req.target).toBe("/bucket/k?uploads=");
    expect(recorded[2]!.req.target).toBe("/bucket/k?b=2&a=&b=1&b=");
    expect(recorded[1]!.req.target).toBe("/bucket/k?list-type=2&prefix=dir%20with%20space%2F%2Bplus&delimiter=%2F&start-after=%E6%97%A5%E6%9C%AC");
    await expectBotocoreAgrees(recorded);
  });

  test("S3 headers are forwarded and signed, values with runs of spaces included", async () => {
    const client = clientFor(recorder.endpoint, KEYS);
    const headers = {
      range: "bytes=0-1023",
      "if-match": '"abc"',
      "if-none-match": '"def"',
      "x-amz-meta-note": "  two   spaces  here ",
      "x-amz-checksum-mode": "ENABLED",
      "cache-control": "no-cache",
    };
    const req = await send(client, { method: "GET", bucket: "bucket", key: "k", headers });
    const auth = parseAuthorization(req.headers.authorization!);
    for (const [name, value] of Object.entries(headers)) expect(req.headers[name]).toBe(value.trim());
    // Like the AWS SDKs, the signer leaves cache-control unsigned (a cache on the way may rewrite it).
    for (const name of ["range", "if-match", "if-none-match", "x-amz-meta-note", "x-amz-checksum-mode", "host", "x-amz-date", "x-amz-content-sha256"]) expect(auth.signedHeaders).toContain(name);
    expect(req.headers["x-amz-content-sha256"]).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    await expectBotocoreAgrees([{ req, creds: KEYS }]);
  });

  test("a streamed PUT body arrives whole, with UNSIGNED-PAYLOAD, a Content-Length and a valid signature", async () => {
    const client = clientFor(recorder.endpoint, KEYS);
    const body = randomBytes(300_000, 5);
    const stream = new Blob([body]).stream();
    const req = await send(client, { method: "PUT", bucket: "bucket", key: "up load+.bin", headers: { "content-length": String(body.length), "content-type": "application/octet-stream", "x-amz-meta-a": "b" }, body: stream });
    expect(req.body).toEqual(body);
    expect(req.headers["content-length"]).toBe(String(body.length));
    expect(req.headers["x-amz-content-sha256"]).toBe("UNSIGNED-PAYLOAD");
    await expectBotocoreAgrees([{ req, creds: KEYS }]);
  });

  test("a literal payload hash from the client is kept and signed, so the backend checks the bytes", async () => {
    const client = clientFor(recorder.endpoint, KEYS);
    const body = new TextEncoder().encode("<Delete><Object><Key>a</Key></Object></Delete>");
    const sha = createHash("sha256").update(body).digest("hex");
    const req = await send(client, { method: "POST", bucket: "bucket", query: [["delete", ""]], headers: { "content-length": String(body.length), "x-amz-content-sha256": sha }, body });
    expect(req.headers["x-amz-content-sha256"]).toBe(sha);
    expect(createHash("sha256").update(req.body).digest("hex")).toBe(sha);
    await expectBotocoreAgrees([{ req, creds: KEYS }]);
  });

  test("temporary credentials add a signed x-amz-security-token", async () => {
    const client = clientFor(recorder.endpoint, TEMP_KEYS, "eu-west-3");
    const req = await send(client, { method: "HEAD", bucket: "bucket", key: "k" });
    expect(req.headers["x-amz-security-token"]).toBe(TEMP_KEYS.sessionToken!);
    const auth = parseAuthorization(req.headers.authorization!);
    expect([auth.accessKeyId, auth.region]).toEqual(["ASIATEMP", "eu-west-3"]);
    expect(auth.signedHeaders).toContain("x-amz-security-token");
    await expectBotocoreAgrees([{ req, creds: TEMP_KEYS }]);
  });

  test("an endpoint with a base path prefixes every request, and the list of buckets is the base itself", async () => {
    const client = clientFor(`${recorder.endpoint}/gateway/s3/`, KEYS);
    const obj = await send(client, { method: "GET", bucket: "bucket", key: "a b" });
    const root = await send(client, { method: "GET" });
    expect([obj.target, root.target]).toEqual(["/gateway/s3/bucket/a%20b", "/gateway/s3"]);
    await expectBotocoreAgrees([
      { req: obj, creds: KEYS },
      { req: root, creds: KEYS },
    ]);
  });

  test("the list of buckets on a bare endpoint is /", async () => {
    const req = await send(clientFor(recorder.endpoint, KEYS), { method: "GET" });
    expect(req.target).toBe("/");
    await expectBotocoreAgrees([{ req, creds: KEYS }]);
  });

  test("without credentials the request goes unsigned", async () => {
    const req = await send(clientFor(recorder.endpoint, undefined), { method: "GET", bucket: "bucket", key: "public.txt" });
    expect(req.headers.authorization).toBeUndefined();
    expect(req.headers["x-amz-date"]).toBeUndefined();
  });

  test("an unreachable backend is a 502 BadGateway S3Error", async () => {
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const port = dead.port;
    dead.stop(true);
    await expect(clientFor(`http://127.0.0.1:${port}`, KEYS).send({ method: "GET", bucket: "b", key: "k", query: [], headers: new Headers() })).rejects.toMatchObject({ code: "BadGateway", status: 502 });
  });
});

describe("backend timeouts", () => {
  /** A backend that answers HEAD/GET headers only after `delayMs`, then streams its body slowly. */
  function slowBackend(delayMs: number) {
    return Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        if (req.method === "PUT") {
          await req.arrayBuffer();
          return new Response(null);
        }
        await Bun.sleep(delayMs);
        let sent = 0;
        return new Response(
          new ReadableStream({
            async pull(c) {
              if (sent++ === 5) return c.close();
              await Bun.sleep(60);
              c.enqueue(new Uint8Array(10));
            },
          }),
        );
      },
    });
  }

  test("a backend that does not send response headers in time is a 504 GatewayTimeout", async () => {
    using slow = slowBackend(2_000);
    const client = new UpstreamClient({ endpoint: new URL(`http://127.0.0.1:${slow.port}`), region: "us-east-1", credentials: async () => KEYS, timeouts: { firstByteMs: 100, idleMs: 30_000 }, retry: { attempts: 1, baseMs: 0, capMs: 0 } });
    await expect(client.send({ method: "GET", bucket: "b", key: "k", query: [], headers: new Headers() })).rejects.toMatchObject({ code: "GatewayTimeout", status: 504 });
  });

  test("the timeout stops once headers arrive: a body slower than the timeout is read whole", async () => {
    using slow = slowBackend(0);
    // Headers come with the first chunk (~60 ms); the whole body takes ~300 ms, past the 250 ms timeout.
    const client = new UpstreamClient({ endpoint: new URL(`http://127.0.0.1:${slow.port}`), region: "us-east-1", credentials: async () => KEYS, timeouts: { firstByteMs: 250, idleMs: 30_000 }, retry: { attempts: 1, baseMs: 0, capMs: 0 } });
    const res = await client.send({ method: "GET", bucket: "b", key: "k", query: [], headers: new Headers() });
    expect((await res.arrayBuffer()).byteLength).toBe(50);
  });

  test("an upload is not timed, however long its body takes", async () => {
    using slow = slowBackend(0);
    const client = new UpstreamClient({ endpoint: new URL(`http://127.0.0.1:${slow.port}`), region: "us-east-1", credentials: async () => KEYS, timeouts: { firstByteMs: 100, idleMs: 30_000 }, retry: { attempts: 1, baseMs: 0, capMs: 0 } });
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent++ === 4) return c.close();
        await Bun.sleep(60);
        c.enqueue(new Uint8Array(10));
      },
    });
    const res = await client.send({ method: "PUT", bucket: "b", key: "k", query: [], headers: new Headers({ "content-length": "40" }), body });
    expect(res.status).toBe(200);
  });
});

describe("requests relayed by the proxy are signed with the backend's keys", () => {
  test("an aws-sdk client's requests reach the backend re-signed and still valid for botocore", async () => {
    const proxy = await startTestProxy({ endpoint: recorder.endpoint, ...KEYS, region: "us-east-1" }, { cache: false });
    try {
      const client = sdkClient(proxy.endpoint, { accessKeyId: "client-key", secretAccessKey: "client-secret", region: "us-east-1" });
      const before = recorder.requests.length;
      await client.send(new PutObjectCommand({ Bucket: "bucket", Key: "from sdk/ü+%.txt", Body: "hello", ContentType: "text/plain", Metadata: { k: "v" } }));
      await client.send(new GetObjectCommand({ Bucket: "bucket", Key: "from sdk/ü+%.txt", Range: "bytes=0-1" }));
      const res = await fetch(`${proxy.endpoint}/bucket/k?b=2&a&b=1&prefix=x+y%2Fz`);
      await res.arrayBuffer();
      const recorded = recorder.requests.slice(before);
      expect(recorded.map((r) => r.target)).toEqual(["/bucket/from%20sdk/%C3%BC%2B%25.txt?x-id=PutObject", "/bucket/from%20sdk/%C3%BC%2B%25.txt?x-id=GetObject", "/bucket/k?b=2&a=&b=1&prefix=x%20y%2Fz"]);
      for (const r of recorded) {
        expect(parseAuthorization(r.headers.authorization!).accessKeyId).toBe(KEYS.accessKeyId);
        expect(r.headers.authorization).not.toContain("client-key");
      }
      expect(new TextDecoder().decode(recorded[0]!.body)).toBe("hello");
      await expectBotocoreAgrees(recorded.map((req) => ({ req, creds: KEYS })));
    } finally {
      await proxy.stop();
    }
  });
});

describe("response bodies are relayed byte-exact", () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  test("a gzip-encoded object comes back compressed, never decompressed on the way", async () => {
    const plain = new TextEncoder().encode("compress me ".repeat(10_000));
    const gz = gzipSync(plain);
    await sdkClient(backend.endpoint, backend).send(new PutObjectCommand({ Bucket: backend.bucket, Key: "data.json.gz", Body: gz, ContentEncoding: "gzip", ContentType: "application/json" }));
    const proxy = await startTestProxy(backend, { cache: false });
    try {
      const upstream = await clientFor(backend.endpoint, { accessKeyId: backend.accessKeyId, secretAccessKey: backend.secretAccessKey }).send({ method: "GET", bucket: backend.bucket, key: "data.json.gz", query: [], headers: new Headers() });
      expect(new Uint8Array(await upstream.arrayBuffer())).toEqual(gz);
      const res = await fetch(`${proxy.endpoint}/${backend.bucket}/data.json.gz`, { headers: { "accept-encoding": "gzip, deflate, br" }, decompress: false } as RequestInit);
      expect(res.headers.get("content-encoding")).toBe("gzip");
      expect(res.headers.get("content-length")).toBe(String(gz.length));
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(gz);
    } finally {
      await proxy.stop();
    }
  });
});
