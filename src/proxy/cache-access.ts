/**
 * Whether an authenticated request may be answered from the shared cache. Only web-identity
 * mode needs a check: the backend authorises each identity itself, so a cached object is
 * served to an identity only while it holds a read grant (src/auth/read-grants.ts), and a
 * grant comes from the backend answering that identity's own HEAD or GET with success.
 */
import type { AuthResult } from "../auth/authenticate.ts";
import type { ReadGrants } from "../auth/read-grants.ts";
import type { S3Operation } from "../s3/operation.ts";
import type { UpstreamClient } from "../upstream/client.ts";
import { forward } from "./forward.ts";

/** True when the cache may answer; asks the backend (a HEAD as the identity) when no grant is held. */
export async function mayReadCache(upstream: UpstreamClient, grants: ReadGrants | undefined, op: S3Operation, auth: AuthResult): Promise<boolean> {
  if (!grants || auth.identity.mode !== "web-identity") return true;
  const { principal } = auth.identity;
  if (grants.allows(principal, op.bucket!, op.key!)) return true;
  const res = await forward(upstream, { op: { ...op, method: "HEAD", kind: "HeadObject" }, body: null, credentials: auth.credentials });
  await res.body?.cancel();
  noteBackendRead(grants, op, auth, res.status);
  return res.status >= 200 && res.status < 300;
}

/** Record a grant when the backend let this identity read the object. */
export function noteBackendRead(grants: ReadGrants | undefined, op: S3Operation, auth: AuthResult, status: number): void {
  if (!grants || auth.identity.mode !== "web-identity" || op.bucket === undefined || op.key === undefined) return;
  if ((op.method === "GET" || op.method === "HEAD") && ((status >= 200 && status < 300) || status === 304)) grants.grant(auth.identity.principal, op.bucket, op.key);
}
