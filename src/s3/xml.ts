/** XML in and out, with fast-xml-parser configured once the way S3 documents look. */
import { XMLBuilder, XMLParser } from "fast-xml-parser";

const builder = new XMLBuilder({ ignoreAttributes: true, suppressEmptyNode: false, processEntities: true });
// htmlEntities: numeric character references (`&#46;`) are decoded as every XML parser does;
// left literal, a key checked here would not be the key the backend reads.
const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, processEntities: true, htmlEntities: true });

const PROLOG = '<?xml version="1.0" encoding="UTF-8"?>';

export function buildXml(doc: Record<string, unknown>): string {
  return PROLOG + builder.build(doc);
}

/** Parse an XML document; returns undefined when the text is not well-formed XML. */
export function parseXml(text: string): Record<string, unknown> | undefined {
  try {
    return parser.parse(text, true) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
