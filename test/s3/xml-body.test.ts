import { describe, expect, test } from "bun:test";
import { S3Error } from "../../src/s3/errors.ts";
import { checkDeleteObjectsKeys, readXmlBody } from "../../src/s3/xml-body.ts";

function stream(text: string): ReadableStream<Uint8Array> {
  return new Response(text).body!;
}

async function verdict(body: string): Promise<string> {
  try {
    const { doc } = await readXmlBody(stream(body), Buffer.byteLength(body));
    checkDeleteObjectsKeys(doc);
    return "ok";
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
}

const del = (...keys: string[]) => `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join("")}<Quiet>true</Quiet></Delete>`;

describe("DeleteObjects keys", () => {
  test("plain keys, one or many, with versions and escaped characters, pass", async () => {
    expect(await verdict(del("a"))).toBe("ok");
    expect(await verdict(del("a/b c", "x&amp;y", "dir//double", "..name", "a..b/c."))).toBe("ok");
    expect(await verdict(`<Delete><Object><Key>k</Key><VersionId>3</VersionId></Object></Delete>`)).toBe("ok");
  });

  test("dot segments are refused however the XML spells them", async () => {
    for (const k of ["../bucket-a/victim.txt", "x/../../bucket-a/v", "./x", "..", "&#46;&#46;/a/v", "&#x2e;&#x2E;/a/v", "<![CDATA[../a/v]]>", "..<!-- c -->/a/v", "  ../a/v  "]) {
      expect([k, await verdict(del("fine", k))]).toEqual([k, "InvalidRequest"]);
    }
  });

  test("anything but one text Key per Object is malformed", async () => {
    expect(await verdict(`<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>`)).toBe("MalformedXML");
    expect(await verdict(`<Delete><Object><Key>.<?pi x?>./a</Key></Object></Delete>`)).toBe("MalformedXML");
    expect(await verdict(`<Delete><Object></Object></Delete>`)).toBe("MalformedXML");
    expect(await verdict(`<Other/>`)).toBe("MalformedXML");
  });
});
