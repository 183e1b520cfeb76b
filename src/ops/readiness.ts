/**
 * Readiness: the backend answers within a short timeout and backend credentials can be
 * loaded. The probe is a signed `HEAD /` (ListBuckets' address) sent through the same
 * upstream client as real traffic; any HTTP answer, even 403, proves the backend is
 * reachable. Liveness needs no check: answering at all proves the process is up.
 */
import type { UpstreamRequest } from "../upstream/client.ts";
import type { CredentialProvider, CredentialSource } from "../upstream/credentials.ts";

export interface ReadinessDeps {
  upstream: { send(req: UpstreamRequest): Promise<Response> };
  credentials: CredentialProvider;
  credentialSource: CredentialSource;
  timeoutMs: number;
}

export interface ReadinessReport {
  ready: boolean;
  backend: { reachable: boolean; status?: number; error?: string };
  credentials: { loaded: boolean; source: CredentialSource; error?: string };
}

export async function checkReadiness(deps: ReadinessDeps): Promise<ReadinessReport> {
  const [backend, credentials] = await Promise.all([probeBackend(deps), loadCredentials(deps)]);
  return { ready: backend.reachable && credentials.loaded, backend, credentials };
}

async function probeBackend(deps: ReadinessDeps): Promise<ReadinessReport["backend"]> {
  try {
    const res = await deps.upstream.send({ method: "HEAD", query: [], headers: new Headers(), signal: AbortSignal.timeout(deps.timeoutMs) });
    await res.body?.cancel();
    return { reachable: true, status: res.status };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return { reachable: false, error: timedOut ? `no answer within ${deps.timeoutMs} ms` : err instanceof Error ? err.message : String(err) };
  }
}

/** With no source at all the proxy runs unsigned by design (public buckets): that is ready too. */
async function loadCredentials(deps: ReadinessDeps): Promise<ReadinessReport["credentials"]> {
  try {
    const c = await deps.credentials();
    return { loaded: deps.credentialSource === "none" || c !== undefined, source: deps.credentialSource };
  } catch (err) {
    return { loaded: false, source: deps.credentialSource, error: err instanceof Error ? err.message : String(err) };
  }
}
