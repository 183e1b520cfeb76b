import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkTlsPair, TlsPairError, type TlsPair } from "../../src/server/tls-pair.ts";
import { createTestCa, type TestCa } from "../support/tls-certs.ts";

let ca: TestCa;
let good: TlsPair;
let other: TlsPair;
let chained: TlsPair;
const NOW = new Date();

const read = async (c: { certFile: string; keyFile: string }): Promise<TlsPair> => ({ cert: await Bun.file(c.certFile).text(), key: await Bun.file(c.keyFile).text() });

beforeAll(async () => {
  ca = await createTestCa();
  good = await read(await ca.issue("good"));
  other = await read(await ca.issue("other"));
  chained = await read(await ca.issue("chained", { chain: true }));
});
afterAll(() => ca?.remove());

function failure(pair: TlsPair, now = NOW): TlsPairError {
  try {
    checkTlsPair(pair, now);
  } catch (err) {
    if (err instanceof TlsPairError) return err;
    throw err;
  }
  throw new Error("the pair was accepted");
}

describe("checkTlsPair", () => {
  test("a matching, current pair is accepted, with its subject, expiry and fingerprint", () => {
    const checked = checkTlsPair(good, NOW);
    expect(checked.subject).toBe("CN=good");
    expect(checked.notAfter.getTime()).toBeGreaterThan(NOW.getTime());
    expect(checked.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(checked.cert).toBe(good.cert);
  });

  test("a chain after the server certificate is accepted and the first certificate is the one checked", () => {
    expect(checkTlsPair(chained, NOW).subject).toBe("CN=chained");
  });

  test("a key of another certificate names --tls-key", () => {
    const err = failure({ cert: good.cert, key: other.key });
    expect(err.option).toBe("tls-key");
    expect(err.message).toContain("does not match");
  });

  test("expiry and not-yet-valid are judged by the clock passed in, naming --tls-cert", () => {
    const later = failure(good, new Date(NOW.getTime() + 3 * 24 * 3600_000));
    expect([later.option, later.message]).toEqual(["tls-cert", expect.stringMatching(/^expired on \d{4}-/)]);
    const earlier = failure(good, new Date(NOW.getTime() - 3 * 24 * 3600_000));
    expect([earlier.option, earlier.message]).toEqual(["tls-cert", expect.stringMatching(/^not valid before/)]);
  });

  test("text that is not a certificate or not a key is refused, and the message quotes none of it", () => {
    const noCert = failure({ cert: "hello", key: good.key });
    expect([noCert.option, noCert.message]).toEqual(["tls-cert", expect.stringContaining("no PEM certificate")]);
    const broken = failure({ cert: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", key: good.key });
    expect([broken.option, broken.message]).toEqual(["tls-cert", "certificate 1 in the file does not parse"]);
    const keyAsCert = failure({ cert: good.cert, key: good.cert });
    expect(keyAsCert.option).toBe("tls-key");
    const swapped = failure({ cert: good.key, key: good.cert });
    expect(swapped.option).toBe("tls-cert");
    const material = [good.key.split("\n")[1]!, good.cert.split("\n")[1]!];
    for (const err of [noCert, broken, keyAsCert, swapped]) for (const line of material) expect(err.message).not.toContain(line);
  });

  test("an encrypted key is refused with the reason", () => {
    const err = failure({ cert: good.cert, key: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n" });
    expect([err.option, err.message]).toEqual(["tls-key", expect.stringContaining("encrypted")]);
  });
});
