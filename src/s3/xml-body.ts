/**
 * Request bodies the backend parses as XML (DeleteObjects, CompleteMultipartUpload) are read
 * whole (they are small: S3 caps them around 1 MB), checked for well-formedness, and
 * forwarded as bytes. A malformed or oversized body gets S3's own 400 here instead of
 * whatever the backend makes of it.
 */
import { S3Error } from "./errors.ts";
import { checkObjectKey } from "./names.ts";
import { parseXml } from "./xml.ts";

export const MAX_XML_BODY = 4 * 1024 * 1024;

export interface XmlBody {
  bytes: Uint8Array;
  doc: Record<string, unknown>;
}

export async function readXmlBody(body: ReadableStream<Uint8Array>, declaredLength: number): Promise<XmlBody> {
  if (declaredLength > MAX_XML_BODY) {
    await body.cancel();
    throw new S3Error("MaxMessageLengthExceeded", "Your request was too big.");
  }
  const bytes = await new Response(body).bytes();
  if (bytes.byteLength !== declaredLength) throw new S3Error("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw malformed();
  }
  const doc = parseXml(text);
  if (!doc || Object.keys(doc).filter((k) => k !== "?xml").length !== 1) throw malformed();
  return { bytes, doc };
}

/**
 * A DeleteObjects body names keys in the addressed bucket; each passes the same check as a
 * key in a request path (a `../other-bucket/x` would otherwise reach another bucket on a
 * backend that resolves it). Anything but one text Key per Object is malformed.
 */
export function checkDeleteObjectsKeys(doc: Record<string, unknown>): void {
  const del = doc.Delete;
  if (typeof del !== "object" || del === null) throw malformed();
  const objects = (del as Record<string, unknown>).Object;
  for (const object of Array.isArray(objects) ? objects : objects === undefined ? [] : [objects]) {
    const key = typeof object === "object" && object !== null ? (object as Record<string, unknown>).Key : undefined;
    if (typeof key !== "string" || key === "") throw malformed();
    checkObjectKey(key);
  }
}

function malformed(): S3Error {
  return new S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
}
