import { expect, test } from "bun:test";
import fc from "fast-check";
import { blockKey, metaKey, parseMetaKey } from "../../src/cache/keys.ts";

const bucket = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{2,20}$/);
// Keys and version ids may hold anything, the separator included.
const anyText = fc.string({ unit: fc.constantFrom("a", "/", "\u0000", "0", "1", "é", "\uFFFF"), maxLength: 8 });
const name = fc.record({
  bucket,
  key: anyText,
  versionId: fc.option(
    anyText.filter((v) => v !== ""),
    { nil: undefined },
  ),
});

test("a metadata id decodes to the name it was made from", () => {
  fc.assert(fc.property(name, (n) => expect(parseMetaKey(metaKey(n.bucket, n.key, n.versionId))).toEqual(n.versionId === undefined ? { bucket: n.bucket, key: n.key } : n)));
});

test("two different names never share a metadata id or a block key", () => {
  fc.assert(
    fc.property(name, name, fc.nat(3), fc.nat(3), (a, b, i, j) => {
      const same = a.bucket === b.bucket && a.key === b.key && a.versionId === b.versionId;
      expect(metaKey(a.bucket, a.key, a.versionId) === metaKey(b.bucket, b.key, b.versionId)).toBe(same);
      const va = { ...a, etag: '"e"', size: 1 };
      const vb = { ...b, etag: '"e"', size: 1 };
      expect(blockKey(va, i) === blockKey(vb, j)).toBe(same && i === j);
    }),
  );
});

test("blocks of two versions of one object never share a key", () => {
  const o = { bucket: "b", key: "k", etag: '"1"', size: 10 };
  expect(blockKey(o, 0)).not.toBe(blockKey({ ...o, etag: '"2"' }, 0));
});

test("strings that are no metadata id decode to nothing", () => {
  for (const s of ["", "bucket", "b\u0000x\u0000k", "b\u00009\u0000short"]) expect(parseMetaKey(s)).toBeUndefined();
});
