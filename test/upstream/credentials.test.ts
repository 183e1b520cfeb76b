import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { containerProvider, CredentialsError, fromEnv, fromSharedFiles, instanceProvider, parseIni, refreshing, resolveCredentialChain, type Credentials } from "../../src/upstream/credentials.ts";

let dir: string;
const NO_FILES = { AWS_SHARED_CREDENTIALS_FILE: "", AWS_CONFIG_FILE: "", HOME: "/nonexistent", AWS_EC2_METADATA_DISABLED: "true" };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "creds-"));
  writeFileSync(
    join(dir, "credentials"),
    [
      "# comment",
      "[default]",
      "aws_access_key_id = DEFAULTKEY",
      "aws_secret_access_key=DEFAULTSECRET",
      "",
      "[dev]",
      "aws_access_key_id = DEVKEY",
      "aws_secret_access_key = DEVSECRET",
      "aws_session_token = DEVTOKEN",
      "; other comment",
      "[keyonly]",
      "aws_access_key_id = HALF",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "config"),
    ["[default]", "region = us-east-1", "[profile cfg]", "aws_access_key_id = CFGKEY", "aws_secret_access_key = CFGSECRET", "[keyonly]", "aws_access_key_id = WRONGSECTION", "aws_secret_access_key = WRONG"].join("\r\n"),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const files = () => ({ ...NO_FILES, AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"), AWS_CONFIG_FILE: join(dir, "config") });

describe("environment", () => {
  test("reads the key pair and session token", () => {
    expect(fromEnv({ AWS_ACCESS_KEY_ID: "A", AWS_SECRET_ACCESS_KEY: "S", AWS_SESSION_TOKEN: "T" })).toEqual({ accessKeyId: "A", secretAccessKey: "S", sessionToken: "T" });
  });

  test("needs both halves of the key pair", () => {
    expect(fromEnv({ AWS_ACCESS_KEY_ID: "A" })).toBeUndefined();
    expect(fromEnv({ AWS_SECRET_ACCESS_KEY: "S" })).toBeUndefined();
    expect(fromEnv({ AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "S" })).toBeUndefined();
  });
});

describe("shared files", () => {
  test("parseIni reads sections and key = value lines, skipping comments", () => {
    const ini = parseIni("[a]\nK = v = w\n# x\n[ b c ]\nk2=v2\n");
    expect(ini.get("a")?.get("k")).toBe("v = w");
    expect(ini.get("b c")?.get("k2")).toBe("v2");
  });

  test("the default profile from the credentials file", async () => {
    expect(await fromSharedFiles(files())).toEqual({ accessKeyId: "DEFAULTKEY", secretAccessKey: "DEFAULTSECRET", sessionToken: undefined });
  });

  test("AWS_PROFILE picks a section, with its session token", async () => {
    expect(await fromSharedFiles({ ...files(), AWS_PROFILE: "dev" })).toEqual({ accessKeyId: "DEVKEY", secretAccessKey: "DEVSECRET", sessionToken: "DEVTOKEN" });
  });

  test("a profile missing from the credentials file is read from [profile NAME] in the config file", async () => {
    expect(await fromSharedFiles({ ...files(), AWS_PROFILE: "cfg" })).toMatchObject({ accessKeyId: "CFGKEY", secretAccessKey: "CFGSECRET" });
  });

  test("the config file's sections need the 'profile ' prefix for named profiles", async () => {
    expect(await fromSharedFiles({ ...files(), AWS_PROFILE: "keyonly" })).toBeUndefined();
  });

  test("the files default to ~/.aws under HOME", async () => {
    const home = mkdtempSync(join(tmpdir(), "home-"));
    try {
      await Bun.write(join(home, ".aws/credentials"), "[default]\naws_access_key_id=HOMEKEY\naws_secret_access_key=HOMESECRET\n");
      expect(await fromSharedFiles({ HOME: home })).toMatchObject({ accessKeyId: "HOMEKEY" });
      expect(await fromSharedFiles({ HOME: "/nonexistent" })).toBeUndefined();
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("an explicitly named file that is missing or unreadable is an error naming the variable", async () => {
    await expect(fromSharedFiles({ ...NO_FILES, AWS_SHARED_CREDENTIALS_FILE: join(dir, "missing") })).rejects.toThrow("AWS_SHARED_CREDENTIALS_FILE");
    await expect(fromSharedFiles({ ...NO_FILES, AWS_CONFIG_FILE: join(dir, "missing") })).rejects.toThrow(CredentialsError);
    await expect(fromSharedFiles({ ...NO_FILES, AWS_SHARED_CREDENTIALS_FILE: dir })).rejects.toThrow(CredentialsError);
    const locked = join(dir, "locked");
    writeFileSync(locked, "[default]\n");
    chmodSync(locked, 0);
    // root reads files whatever their mode, so only check the error when the read really fails.
    const readable = await Bun.file(locked)
      .text()
      .then(
        () => true,
        () => false,
      );
    if (!readable) await expect(fromSharedFiles({ ...NO_FILES, AWS_SHARED_CREDENTIALS_FILE: locked })).rejects.toThrow(CredentialsError);
  });
});

/** A loopback stand-in for the ECS/EKS credentials endpoint, counting requests. */
function metadataServer(answer: (n: number, req: Request) => Response | Promise<Response>) {
  let calls = 0;
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => answer(++calls, req) });
  return { server, calls: () => calls, url: `http://127.0.0.1:${server.port}` };
}

function doc(n: number, expiration: Date) {
  return Response.json({ AccessKeyId: `AKID${n}`, SecretAccessKey: `SECRET${n}`, Token: `TOKEN${n}`, Expiration: expiration.toISOString() });
}

describe("container credentials", () => {
  test("are fetched from AWS_CONTAINER_CREDENTIALS_FULL_URI with the authorization token", async () => {
    let auth = null as string | null;
    let path = "";
    const md = metadataServer((n, req) => {
      auth = req.headers.get("authorization");
      path = new URL(req.url).pathname;
      return doc(n, new Date("2030-01-01T00:00:00Z"));
    });
    try {
      const provider = containerProvider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${md.url}/v2/credentials/abc`, AWS_CONTAINER_AUTHORIZATION_TOKEN: "tok" })!;
      expect(await provider()).toEqual({ accessKeyId: "AKID1", secretAccessKey: "SECRET1", sessionToken: "TOKEN1", expiration: new Date("2030-01-01T00:00:00Z") });
      expect([auth, path]).toEqual(["tok", "/v2/credentials/abc"]);
    } finally {
      md.server.stop(true);
    }
  });

  test("read the authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", async () => {
    let auth = null as string | null;
    const md = metadataServer((n, req) => {
      auth = req.headers.get("authorization");
      return doc(n, new Date("2030-01-01T00:00:00Z"));
    });
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "file-token\n");
    try {
      await containerProvider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: md.url, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile })!();
      expect(auth).toBe("file-token");
    } finally {
      md.server.stop(true);
    }
  });

  test("an error status from the endpoint is a CredentialsError", async () => {
    const md = metadataServer(() => new Response("no", { status: 500 }));
    try {
      await expect(containerProvider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: md.url })!()).rejects.toThrow("answered 500");
    } finally {
      md.server.stop(true);
    }
  });

  test("is not configured without either URI variable", () => {
    expect(containerProvider({})).toBeUndefined();
  });
});

describe("instance metadata credentials", () => {
  test("follow the IMDSv2 token, role and credentials steps", async () => {
    const seen: string[] = [];
    const md = metadataServer((n, req) => {
      const path = new URL(req.url).pathname;
      seen.push(`${req.method} ${path} ${req.headers.get("x-aws-ec2-metadata-token") ?? req.headers.get("x-aws-ec2-metadata-token-ttl-seconds")}`);
      if (path === "/latest/api/token") return new Response("imds-token");
      if (path === "/latest/meta-data/iam/security-credentials/") return new Response("my-role\n");
      return doc(n, new Date("2030-01-01T00:00:00Z"));
    });
    try {
      const provider = instanceProvider({ AWS_EC2_METADATA_SERVICE_ENDPOINT: md.url })!;
      expect(await provider()).toMatchObject({ accessKeyId: "AKID3", sessionToken: "TOKEN3" });
      expect(seen).toEqual(["PUT /latest/api/token 21600", "GET /latest/meta-data/iam/security-credentials/ imds-token", "GET /latest/meta-data/iam/security-credentials/my-role imds-token"]);
    } finally {
      md.server.stop(true);
    }
  });

  test("are disabled by AWS_EC2_METADATA_DISABLED=true", () => {
    expect(instanceProvider({ AWS_EC2_METADATA_DISABLED: "TRUE" })).toBeUndefined();
  });
});

describe("refreshing", () => {
  const HOUR = 3_600_000;

  test("reuses credentials until five minutes before they expire, then fetches new ones", async () => {
    let clock = 0;
    let fetches = 0;
    const get = refreshing(
      async () => ({ accessKeyId: `K${++fetches}`, secretAccessKey: "S", expiration: new Date(clock + HOUR) }),
      () => clock,
    );
    expect((await get()).accessKeyId).toBe("K1");
    clock = HOUR - 5 * 60_000 - 1;
    expect((await get()).accessKeyId).toBe("K1");
    clock = HOUR - 5 * 60_000 + 1;
    expect((await get()).accessKeyId).toBe("K2");
    expect(fetches).toBe(2);
  });

  test("credentials without an expiry are fetched once", async () => {
    let fetches = 0;
    const get = refreshing(
      async () => {
        fetches++;
        return { accessKeyId: "K", secretAccessKey: "S" };
      },
      () => 1e15,
    );
    await get();
    await get();
    expect(fetches).toBe(1);
  });

  test("concurrent callers share one fetch", async () => {
    const md = metadataServer(async (n) => {
      await Bun.sleep(20);
      return doc(n, new Date(Date.now() + HOUR));
    });
    try {
      const get = refreshing(containerProvider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: md.url })!);
      const all = await Promise.all(Array.from({ length: 10 }, () => get()));
      expect(new Set(all.map((c) => c.accessKeyId))).toEqual(new Set(["AKID1"]));
      expect(md.calls()).toBe(1);
    } finally {
      md.server.stop(true);
    }
  });

  test("a failed refresh keeps serving credentials that are still valid, and a later call retries", async () => {
    let clock = 0;
    let fail = false;
    let fetches = 0;
    const get = refreshing(
      async (): Promise<Credentials> => {
        fetches++;
        if (fail) throw new Error("endpoint down");
        return { accessKeyId: `K${fetches}`, secretAccessKey: "S", expiration: new Date(clock + HOUR) };
      },
      () => clock,
    );
    await get();
    fail = true;
    clock = HOUR - 60_000;
    expect((await get()).accessKeyId).toBe("K1");
    clock = HOUR + 1;
    await expect(get()).rejects.toThrow("endpoint down");
    fail = false;
    expect((await get()).accessKeyId).toBe("K4");
  });
});

describe("the chain", () => {
  test("environment first", async () => {
    const { provider, source } = await resolveCredentialChain({ ...files(), AWS_ACCESS_KEY_ID: "E", AWS_SECRET_ACCESS_KEY: "S" });
    expect(source).toBe("environment");
    expect((await provider())?.accessKeyId).toBe("E");
  });

  test("then the shared files", async () => {
    const { provider, source } = await resolveCredentialChain({ ...files(), AWS_PROFILE: "dev" });
    expect(source).toBe("shared-files");
    expect((await provider())?.accessKeyId).toBe("DEVKEY");
  });

  test("then the container endpoint, fetched lazily", async () => {
    const md = metadataServer((n) => doc(n, new Date(Date.now() + 3_600_000)));
    try {
      const { provider, source } = await resolveCredentialChain({ ...NO_FILES, AWS_CONTAINER_CREDENTIALS_FULL_URI: md.url });
      expect(source).toBe("container");
      expect(md.calls()).toBe(0);
      expect((await provider())?.accessKeyId).toBe("AKID1");
    } finally {
      md.server.stop(true);
    }
  });

  test("then instance metadata, probed once at start-up", async () => {
    const md = metadataServer((n, req) => {
      const path = new URL(req.url).pathname;
      if (path === "/latest/api/token") return new Response("t");
      if (path.endsWith("/security-credentials/")) return new Response("role");
      return doc(n, new Date(Date.now() + 3_600_000));
    });
    try {
      const { provider, source } = await resolveCredentialChain({ ...NO_FILES, AWS_EC2_METADATA_DISABLED: "", AWS_EC2_METADATA_SERVICE_ENDPOINT: md.url });
      expect(source).toBe("instance");
      expect((await provider())?.accessKeyId).toBe("AKID3");
      expect(md.calls()).toBe(3);
    } finally {
      md.server.stop(true);
    }
  });

  test("an instance metadata endpoint that does not answer leaves requests unsigned", async () => {
    const md = metadataServer(() => new Response("", { status: 404 }));
    try {
      const { provider, source } = await resolveCredentialChain({ ...NO_FILES, AWS_EC2_METADATA_DISABLED: "", AWS_EC2_METADATA_SERVICE_ENDPOINT: md.url });
      expect(source).toBe("none");
      expect(await provider()).toBeUndefined();
    } finally {
      md.server.stop(true);
    }
  });

  test("nothing at all: unsigned", async () => {
    const { provider, source } = await resolveCredentialChain(NO_FILES);
    expect(source).toBe("none");
    expect(await provider()).toBeUndefined();
  });
});
