/**
 * `x-amz-copy-source` (CopyObject, UploadPartCopy): `[/]bucket/key[?versionId=…]`, the
 * path percent-encoded. Parsed once into the bucket and key it names, checked like a request
 * path, and forwarded re-encoded from the parsed form, never as the client wrote it: the
 * bucket that was authorised is the one the backend copies from.
 */
import { S3Error } from "./errors.ts";
import { checkBucketName, checkObjectKey } from "./names.ts";
import { decodeComponent, encodePath, encodeQueryComponent } from "./uri.ts";

export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

function invalid(why: string): S3Error {
  return new S3Error("InvalidArgument", why, { ArgumentName: "x-amz-copy-source" });
}

export function parseCopySource(header: string): CopySource {
  const q = header.indexOf("?");
  const path = decodeComponent(q === -1 ? header : header.slice(0, q), false);
  if (path === undefined) throw invalid("Invalid copy source encoding.");
  const rest = path.startsWith("/") ? path.slice(1) : path;
  const slash = rest.indexOf("/");
  if (slash <= 0 || slash === rest.length - 1) throw invalid("Copy Source must mention the source bucket and key: sourcebucket/sourcekey.");
  const bucket = rest.slice(0, slash);
  const key = rest.slice(slash + 1);
  checkBucketName(bucket);
  checkObjectKey(key);
  if (q === -1) return { bucket, key };
  const m = /^versionId=([^&]*)$/.exec(header.slice(q + 1));
  const versionId = m ? decodeComponent(m[1]!, false) : undefined;
  if (versionId === undefined || versionId === "") throw invalid("The only parameter a copy source may carry is versionId.");
  return { bucket, key, versionId };
}

/** The canonical form sent to the backend, encoded with the rule the request path uses. */
export function formatCopySource(source: CopySource): string {
  const path = `${encodePath(source.bucket)}/${encodePath(source.key)}`;
  return source.versionId === undefined ? path : `${path}?versionId=${encodeQueryComponent(source.versionId)}`;
}
