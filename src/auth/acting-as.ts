/**
 * Web-identity mode: the backend credentials of the request being served, carried into
 * work the cache starts on its behalf (block fills, metadata discovery, footer prefetch),
 * which reaches the backend without knowing which request it serves.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Upstream } from "../cache/read-through.ts";
import type { Credentials } from "../upstream/credentials.ts";

const current = new AsyncLocalStorage<Credentials>();

/** Run `fn` with `credentials` as the ones backend requests started inside it are signed with. */
export function actingAs<T>(credentials: Credentials | undefined, fn: () => Promise<T>): Promise<T> {
  return credentials ? current.run(credentials, fn) : fn();
}

/** An upstream whose requests carry the credentials of the request they were started for. */
export function onBehalfOfRequest(upstream: Upstream): Upstream {
  return {
    send: (req) => {
      const credentials = req.credentials ?? current.getStore();
      return upstream.send(credentials ? { ...req, credentials } : req);
    },
  };
}
