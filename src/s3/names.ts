/**
 * The one check every bucket name and object key passes, wherever the name comes from: the
 * request path, `x-amz-copy-source` (CopyObject, UploadPartCopy), the keys of a DeleteObjects
 * body. A name that passes is forwarded exactly as checked, so what is authorised is what the
 * backend acts on.
 */
import { S3Error } from "./errors.ts";

/** S3 caps keys at 1024 bytes; leave room for backends that allow more, refuse the absurd. */
const MAX_KEY_LENGTH = 4 * 1024;

/**
 * Keys with `.` or `..` segments cannot be sent faithfully: every HTTP stack between here
 * and the backend (Bun's fetch included), and some backends themselves, normalise them away,
 * so the backend would act on another key (or bucket) than the one authorised and cached.
 */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/** Loose: real backends accept legacy names (uppercase, underscores), so only refuse what can never be a bucket. */
const PLAUSIBLE_BUCKET = /^[A-Za-z0-9._-]{1,255}$/;

export function checkBucketName(bucket: string): void {
  if (!PLAUSIBLE_BUCKET.test(bucket) || bucket === "." || bucket === "..") {
    throw new S3Error("InvalidBucketName", "The specified bucket is not valid.", { BucketName: bucket });
  }
}

/** `key` decoded; throws the S3 error for a key this proxy will not forward. */
export function checkObjectKey(key: string): void {
  if (key.length > MAX_KEY_LENGTH || key.includes("\0")) throw new S3Error("InvalidURI", "Couldn't parse the specified URI.");
  if (DOT_SEGMENT.test(key)) throw new S3Error("InvalidRequest", "Keys with '.' or '..' path segments are not supported by this proxy.");
}
