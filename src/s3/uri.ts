/**
 * Percent-encoding the way S3 and SigV4 want it: every byte except the unreserved
 * characters `A-Z a-z 0-9 - . _ ~` as `%XX` with upper-case hex (and `/` kept in paths).
 * Used both for the wire and for signing, so what is signed is exactly what is sent.
 */

/** A path with nothing to encode or decode: unreserved characters and slashes only. */
export const PLAIN_PATH = /^[A-Za-z0-9\-._~/]*$/;
const PLAIN_COMPONENT = /^[A-Za-z0-9\-._~]*$/;

/** encodeURIComponent leaves `!'()*` alone; S3 and SigV4 encode them. */
function encodeStrict(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Encode an S3 key or path for the URI (slashes kept). */
export function encodePath(path: string): string {
  return PLAIN_PATH.test(path) ? path : encodeStrict(path).replaceAll("%2F", "/");
}

/** Encode a query parameter name or value (slashes encoded too). */
export function encodeQueryComponent(value: string): string {
  return PLAIN_COMPONENT.test(value) ? value : encodeStrict(value);
}

/** One query parameter in received order; `value` is "" for a bare name (`?uploads`). */
export type QueryParam = readonly [name: string, value: string];

/** Serialise parameters for the wire, encoded with the same rule the signer uses. */
export function buildQueryString(params: readonly QueryParam[]): string {
  return params.map(([k, v]) => `${encodeQueryComponent(k)}=${encodeQueryComponent(v)}`).join("&");
}

/**
 * Decode a raw URI component. `+` is a literal plus in S3 paths, but a space in
 * query strings sent by some clients (form encoding), hence the flag.
 * Returns undefined on malformed percent-encoding or invalid UTF-8.
 */
export function decodeComponent(raw: string, plusIsSpace: boolean): string | undefined {
  if (!raw.includes("%")) return plusIsSpace ? raw.replaceAll("+", " ") : raw;
  try {
    return decodeURIComponent(plusIsSpace ? raw.replaceAll("+", " ") : raw);
  } catch {
    return undefined;
  }
}
