import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { WebIdentityExchanger } from "../../src/auth/web-identity.ts";
import { S3Error } from "../../src/s3/errors.ts";
import { startSts, type TestSts } from "../support/sts.ts";

const ALICE = { accessKeyId: "ASIAALICE", secretAccessKey: "alice-secret", sessionToken: "alice-session", subject: "alice" };
const BOB = { accessKeyId: "ASIABOB", secretAccessKey: "bob-secret", sessionToken: "bob-session", subject: "bob" };
const ROLE = "arn:aws:iam::123456789012:role/s3proxy-readers";

let sts: TestSts;
let clock = Date.parse("2026-11-25T12:00:00Z");

beforeAll(() => {
  sts = startSts({ "token-alice": ALICE, "token-bob": BOB, "token-expiring": ALICE });
  sts.expiration = () => new Date(clock + 3600_000);
});
afterAll(async () => {
  await sts.stop();
});

function exchanger() {
  return new WebIdentityExchanger({ stsEndpoint: new URL(sts.endpoint), roleArn: ROLE, now: () => clock });
}

describe("web identity exchange", () => {
  test("a token is exchanged for the STS credentials and the subject becomes the identity", async () => {
    const session = await exchanger().session("token-alice");
    expect(session.credentials).toMatchObject({ accessKeyId: "ASIAALICE", secretAccessKey: "alice-secret", sessionToken: "alice-session" });
    expect(session.identity).toBe("alice@test-idp");
    expect(sts.roleArnsSeen.at(-1)).toBe(ROLE);
  });

  test("a token's session is cached: a second request makes no exchange", async () => {
    const ex = exchanger();
    await ex.session("token-bob");
    await ex.session("token-bob");
    expect(ex.exchanges).toBe(1);
  });

  test("concurrent requests with one token share one exchange", async () => {
    const ex = exchanger();
    let release!: () => void;
    sts.gate = new Promise((r) => (release = r));
    const before = sts.exchanges.get("token-alice") ?? 0;
    const pending = Array.from({ length: 10 }, () => ex.session("token-alice"));
    await Bun.sleep(0);
    release();
    sts.gate = undefined;
    const sessions = await Promise.all(pending);
    expect(new Set(sessions.map((s) => s.credentials.accessKeyId))).toEqual(new Set(["ASIAALICE"]));
    expect(sts.exchanges.get("token-alice")! - before).toBe(1);
    expect(ex.exchanges).toBe(1);
  });

  test("credentials are exchanged again shortly before they expire", async () => {
    const ex = exchanger();
    await ex.session("token-expiring");
    clock += 3600_000 - 120_000; // two minutes before expiry: still good
    await ex.session("token-expiring");
    expect(ex.exchanges).toBe(1);
    clock += 90_000; // thirty seconds before expiry: inside the refresh margin
    const fresh = await ex.session("token-expiring");
    expect(ex.exchanges).toBe(2);
    expect(fresh.credentials.expiration.getTime()).toBe(clock + 3600_000);
  });

  test("a rejected token gets AccessDenied and is not cached", async () => {
    const ex = exchanger();
    for (let i = 0; i < 2; i++) {
      const err = await ex.session("forged").catch((e) => e);
      expect(err).toBeInstanceOf(S3Error);
      expect((err as S3Error).code).toBe("AccessDenied");
    }
    expect(ex.exchanges).toBe(2);
  });

  test("an unreachable STS endpoint is a BadGateway, not an AccessDenied", async () => {
    const ex = new WebIdentityExchanger({ stsEndpoint: new URL("http://127.0.0.1:1/"), roleArn: ROLE });
    expect(((await ex.session("token-alice").catch((e) => e)) as S3Error).code).toBe("BadGateway");
  });
});
