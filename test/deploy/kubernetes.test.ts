/**
 * deploy/kubernetes/ cannot drift from the code: the manifests (parsed with Bun's YAML) name
 * the proxy's real probe paths, ports, options and metrics path; the ConfigMap and Secret
 * resolve with the proxy's own configuration code; the grace period covers the shutdown
 * timeout; memory follows the cache size; the image is the Dockerfile's. No cluster runs here.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig } from "../../src/config.ts";
import { LIVE_PATH, READY_PATH } from "../../src/ops/routes.ts";
import { OPTIONS } from "../../src/options.ts";
import { parseBytes, parseDuration } from "../../src/units.ts";

const ROOT = join(import.meta.dir, "../..");
const DIR = join(ROOT, "deploy/kubernetes");

// The fields of the manifests this test reads, whichever kind has them (Bun's YAML parser
// returns them untyped; a field that is missing fails the test as it would untyped).
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args: string[];
  ports: { name: string; containerPort: number }[];
  envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe: Probe;
  readinessProbe: Probe;
  lifecycle: { preStop: { sleep: { seconds: number } } };
  resources: { requests: { memory: string }; limits: { memory: string } };
  securityContext: { readOnlyRootFilesystem?: boolean };
}
interface Doc {
  kind: string;
  metadata: { name: string };
  data: Record<string, string>; // ConfigMap
  stringData: Record<string, string>; // Secret
  spec: {
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: { containers: Container[]; securityContext: Record<string, unknown>; terminationGracePeriodSeconds: number };
    };
    selector: Record<string, unknown>; // a Deployment's matchLabels, a Service's labels
    ports: { port: number; targetPort: string | number }[];
  };
  resources: string[]; // kustomization
}
async function load(file: string): Promise<Doc[]> {
  const parsed = Bun.YAML.parse(await Bun.file(join(DIR, file)).text()) as Doc | Doc[];
  return Array.isArray(parsed) ? parsed : [parsed];
}
const find = (docs: Doc[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)!;

const all = (
  await Promise.all(
    readdirSync(DIR)
      .filter((f) => f.endsWith(".yaml"))
      .map(load),
  )
).flat();
const config: Record<string, string> = find(all, "ConfigMap", "s3proxy").data;
const secret: Record<string, string> = find(all, "Secret", "s3proxy").stringData;
const deployment = find(all, "Deployment", "s3proxy");
const pod = deployment.spec.template.spec;
const container = pod.containers.find((c) => c.name === "s3proxy")!;
const env = { ...config, ...secret };
const resolved = resolveConfig({}, env);
const portNamed = (name: string | number) => (typeof name === "number" ? name : container.ports.find((p) => p.name === name)?.containerPort);

/** Variables of the AWS credential chain (src/upstream/credentials.ts), which are not options. */
const CREDENTIAL_VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"];

describe("deploy/kubernetes", () => {
  test("every ConfigMap and Secret key is an option's environment variable or a credential variable, and they resolve", () => {
    const known = new Set([...OPTIONS.flatMap((o) => o.env), ...CREDENTIAL_VARIABLES]);
    for (const key of Object.keys(env)) expect(known.has(key), key).toBe(true);
    expect(container.envFrom.map((e) => (e.configMapRef ?? e.secretRef)!.name)).toEqual(["s3proxy", "s3proxy"]);
    expect(resolved.cache.enabled).toBe(true);
  });

  test("the commented REDIS_URL resolves too, and names the Service redis.yaml makes", async () => {
    const text = await Bun.file(join(DIR, "configmap.yaml")).text();
    const url = /#\s*REDIS_URL:\s*"([^"]+)"/.exec(text)![1]!;
    expect(resolveConfig({}, { ...env, REDIS_URL: url }).cache.redisUrl).toBe(url);
    const { hostname, port } = new URL(url);
    const service = find(all, "Service", hostname);
    expect(service.spec.ports.map((p) => p.port)).toContain(Number(port));
    const redis = find(all, "Deployment", hostname).spec.template.spec.containers[0];
    expect(redis.args.join(" ")).toContain("--maxmemory-policy allkeys-lru");
  });

  test("probes ask the proxy's real health paths on the port it listens on", () => {
    expect(container.livenessProbe.httpGet.path).toBe(LIVE_PATH);
    expect(container.readinessProbe.httpGet.path).toBe(READY_PATH);
    for (const probe of [container.livenessProbe, container.readinessProbe]) expect(portNamed(probe.httpGet.port)).toBe(resolved.ops.metricsPort ?? resolved.port);
    expect(portNamed("s3")).toBe(resolved.port);
  });

  test("Prometheus scrapes the metrics path and port the proxy serves", () => {
    const a = deployment.spec.template.metadata.annotations;
    expect(a["prometheus.io/scrape"]).toBe("true");
    expect(a["prometheus.io/path"]).toBe(resolved.ops.metricsPath);
    expect(Number(a["prometheus.io/port"])).toBe(resolved.ops.metricsPort ?? resolved.port);
  });

  test("the Service reaches the S3 port of these pods", () => {
    const service = find(all, "Service", "s3proxy");
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
    expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
    expect(portNamed(service.spec.ports[0]!.targetPort)).toBe(resolved.port);
  });

  test("the grace period covers the preStop pause, --shutdown-timeout and a few seconds to exit", () => {
    const pause = container.lifecycle.preStop.sleep.seconds;
    const drain = parseDuration(config.SHUTDOWN_TIMEOUT!)! / 1000;
    expect(drain).toBe(resolved.ops.shutdownTimeoutMs / 1000);
    expect(pod.terminationGracePeriodSeconds).toBe(pause + drain + 5);
  });

  test("memory is derived from --cache-size: 1.25 x the cache + 384Mi, requested and limited alike", () => {
    const mi = Math.ceil((1.25 * parseBytes(config.CACHE_SIZE!)! + 384 * 1024 ** 2) / 1024 ** 2);
    expect(container.resources.requests.memory).toBe(`${mi}Mi`);
    expect(container.resources.limits.memory).toBe(`${mi}Mi`);
  });

  test("non-root with a read-only root file system, as the image's user", async () => {
    const dockerfile = await Bun.file(join(ROOT, "Dockerfile")).text();
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile)!;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(user[1]), runAsGroup: Number(user[2]) });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    for (const d of all.filter((d) => d.kind === "Deployment")) {
      for (const c of d.spec.template.spec.containers) expect(c.securityContext.readOnlyRootFilesystem, c.name).toBe(true);
    }
  });

  test("the image is this version's, and the Dockerfile's HEALTHCHECK runs `s3proxy healthcheck` on the binary it copies", async () => {
    const pkg = await Bun.file(join(ROOT, "package.json")).json();
    expect(container.image).toBe(`s3proxy:${pkg.version}`);
    const dockerfile = await Bun.file(join(ROOT, "Dockerfile")).text();
    const binary = /^COPY \S+ (\S+)$/m.exec(dockerfile)![1];
    expect(dockerfile).toMatch(new RegExp(`^HEALTHCHECK .*CMD \\["${binary}", "healthcheck"\\]$`, "m"));
    expect(dockerfile).toContain(`ENTRYPOINT ["${binary}"]`);
  });

  test("kustomization.yaml lists files that exist", async () => {
    const [k] = await load("kustomization.yaml");
    const files = readdirSync(DIR);
    for (const r of k.resources) expect(files).toContain(r);
  });
});
