/**
 * Request bodies the backend parses as XML (DeleteObjects, CompleteMultipartUpload) are read
 * whole (they are small: S3 caps them around 1 MB), checked for well-formedness, and
 * forwarded as bytes. A malformed or oversized body gets S3's own 400 here instead of
 * whatever the backend makes of it.
 */
import { S3Error } from "./errors.ts";
import { parseXml } from "./xml.ts";

export const MAX_XML_BODY = 4 * 1024 * 1024;

export async function readXmlBody(body: ReadableStream<Uint8Array>, declaredLength: number): Promise<Uint8Array> {
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
  return bytes;
}

function malformed(): S3Error {
  return new S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
}
