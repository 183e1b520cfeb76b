/**
 * The operator's endpoints, answered in front of the S3 pipeline:
 *   /_s3proxy/metrics        Prometheus metrics (path set by --metrics-path)
 *   /_s3proxy/health/live    liveness: the process answers
 *   /_s3proxy/health/ready   readiness: backend reachable, credentials loaded (503 if not)
 *   /_s3proxy/status         the status page; /_s3proxy/status.json its figures
 * `_s3proxy` can never be a bucket (bucket names start with a letter or digit), so on the
 * S3 port these paths shadow nothing. A virtual-hosted request (`bucket.<domain>/...`)
 * addresses a key, so it always goes to the pipeline.
 */
import type { Handler } from "../proxy/handler.ts";
import { nextRequestId } from "../proxy/request-id.ts";
import type { ProxyMetrics } from "./metrics.ts";
import { CONTENT_TYPE } from "./prometheus.ts";
import type { ReadinessReport } from "./readiness.ts";
import { STATUS_PAGE } from "./status-page.ts";

export const OPS_PREFIX = "/_s3proxy/";
/** Probed by orchestrators (Kubernetes, `s3proxy healthcheck`): keep in step with deploy/. */
export const LIVE_PATH = `${OPS_PREFIX}health/live`;
export const READY_PATH = `${OPS_PREFIX}health/ready`;

export interface OpsDeps {
  metrics: ProxyMetrics;
  readiness: () => Promise<ReadinessReport>;
  metricsPath: string;
  /** The proxy's own host names (--domain): requests to `<bucket>.<domain>` are never ours. */
  domains: readonly string[];
  /**
   * Whether status.json may name the most-hit objects. Not on a port anyone can reach while
   * clients must authenticate: bucket and key names are theirs to see, not every caller's.
   */
  discloseObjects: boolean;
}

/** Answer an operator request, or undefined when the request belongs to the S3 pipeline. */
export type OpsRoutes = (req: Request) => Promise<Response> | undefined;

export function createOpsRoutes(deps: OpsDeps): OpsRoutes {
  const routes: Record<string, () => Response | Promise<Response>> = {
    [deps.metricsPath]: () => new Response(deps.metrics.render(), { headers: { "content-type": CONTENT_TYPE } }),
    [LIVE_PATH]: () => new Response("ok\n", { headers: { "content-type": "text/plain; charset=utf-8" } }),
    [READY_PATH]: async () => {
      const report = await deps.readiness();
      return Response.json(report, { status: report.ready ? 200 : 503 });
    },
    [`${OPS_PREFIX}status`]: () => new Response(STATUS_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } }),
    [`${OPS_PREFIX}status.json`]: () => Response.json(deps.metrics.snapshot({ objects: deps.discloseObjects })),
  };
  return (req) => {
    const path = pathOf(req.url);
    const route = routes[path];
    if (!route && !path.startsWith(OPS_PREFIX)) return undefined;
    if (isVirtualHosted(req, deps.domains)) return undefined;
    return answer(req, route);
  };
}

/** The path of an absolute URL, without parsing the whole URL: this runs before every S3 request. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

async function answer(req: Request, route: (() => Response | Promise<Response>) | undefined): Promise<Response> {
  let res: Response;
  if (!route) res = new Response("not found\n", { status: 404 });
  else if (req.method !== "GET" && req.method !== "HEAD") res = new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  else res = await route();
  res.headers.set("cache-control", "no-store");
  res.headers.set("x-amz-request-id", nextRequestId());
  return res;
}

function isVirtualHosted(req: Request, domains: readonly string[]): boolean {
  if (domains.length === 0) return false;
  const host = (req.headers.get("host") ?? "").toLowerCase().replace(/:\d+$/, "");
  return domains.some((d) => host.endsWith("." + d));
}

/**
 * The S3 port: operator paths first, everything else to the pipeline. Every operator path
 * on this port starts with `/_` (config.ts enforces it for --metrics-path), so S3 requests
 * skip the URL parse.
 */
export function withOpsRoutes(handler: Handler, ops: OpsRoutes): Handler {
  return (req) => (req.url.includes("/_") ? ops(req) : undefined) ?? handler(req);
}

/** The --metrics-port server: operator paths only. */
export function opsOnly(ops: OpsRoutes): Handler {
  return async (req) => (await ops(req)) ?? new Response("not found\n", { status: 404, headers: { "x-amz-request-id": nextRequestId() } });
}
