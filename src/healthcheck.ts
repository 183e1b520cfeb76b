/**
 * `s3proxy healthcheck [--url URL]`: probe a running proxy's readiness, for images without
 * a shell or curl (the distroless container's HEALTHCHECK). Exit 0 when it answers 200, 1
 * otherwise (refused, timed out, 503 not ready), with one line saying which.
 */
import { READY_PATH } from "./ops/routes.ts";

/** Longer than the readiness check's own wait for the backend (2 s), so its 503 arrives. */
const PROBE_TIMEOUT_MS = 5000;

/**
 * Where the proxy started with the same environment answers: the ops routes live on
 * METRICS_PORT when it is set, else on PORT (the container sets PORT=3000).
 */
export function defaultHealthcheckUrl(env: Record<string, string | undefined>): string {
  return `http://127.0.0.1:${env.METRICS_PORT || env.PORT || "3000"}${READY_PATH}`;
}

export async function healthcheck(url: string, fetcher: typeof fetch = fetch): Promise<{ code: 0 | 1; line: string }> {
  try {
    const res = await fetcher(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const body = (await res.text()).trim();
    return res.status === 200 ? { code: 0, line: `ready: ${url}` } : { code: 1, line: `not ready: ${url} answered ${res.status} ${body}` };
  } catch (err) {
    return { code: 1, line: `not ready: ${url}: ${err instanceof Error ? err.message : String(err)}` };
  }
}
