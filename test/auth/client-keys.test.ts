import { describe, expect, test } from "bun:test";
import { ClientKeysError, ClientKeyStore, parseClientKeysFile, parseClientKeysList } from "../../src/auth/client-keys.ts";

describe("client keys", () => {
  test("the file format: comments, blank lines, optional bucket list", () => {
    const keys = parseClientKeysFile("# team keys\n\nAKID1 secret/1+x\nAKID2  secret2  logs,data # limited\n");
    expect(keys.map((k) => [k.accessKeyId, k.secretAccessKey, k.buckets && [...k.buckets]])).toEqual([
      ["AKID1", "secret/1+x", undefined],
      ["AKID2", "secret2", ["logs", "data"]],
    ]);
  });

  test("a malformed line names its number", () => {
    expect(() => parseClientKeysFile("AKID1 s\nONLYONEFIELD\n")).toThrow("line 2");
  });

  test("the inline list: AKID:SECRET[:bucket+bucket], comma-separated", () => {
    const keys = parseClientKeysList("A:s1, B:s2:x+y");
    expect(keys.map((k) => [k.accessKeyId, k.secretAccessKey, k.buckets && [...k.buckets]])).toEqual([
      ["A", "s1", undefined],
      ["B", "s2", ["x", "y"]],
    ]);
    expect(() => parseClientKeysList("A")).toThrow(ClientKeysError);
  });

  test("reload replaces the file's keys, keeps inline keys, and keeps the old keys when the file turns bad", async () => {
    let text = "F1 one\n";
    const store = new ClientKeyStore(parseClientKeysList("I:inline"), { path: "keys", read: async () => text });
    await store.reload();
    expect([store.get("F1")?.secretAccessKey, store.get("I")?.secretAccessKey]).toEqual(["one", "inline"]);
    text = "F2 two\n";
    await store.reload();
    expect([store.get("F1"), store.get("F2")?.secretAccessKey, store.get("I")?.secretAccessKey]).toEqual([undefined, "two", "inline"]);
    text = "broken\n";
    await expect(store.reload()).rejects.toThrow(ClientKeysError);
    expect(store.get("F2")?.secretAccessKey).toBe("two");
  });
});
