/** Read Prometheus text exposition into samples, so tests can check values by name and labels. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[k!] = v!.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    samples.push({ name: m[1]!, labels, value: m[3] === "+Inf" ? Infinity : Number(m[3]) });
  }
  return samples;
}

/** The sum of every sample of `name` whose labels include `labels`. */
export function metricValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

/** `tls`: the CA to trust when the proxy serves https. */
export async function scrape(url: string, tls?: { ca: string }): Promise<Sample[]> {
  const res = await fetch(url, { tls });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return parseMetrics(await res.text());
}

/**
 * Wait until no cache fill is still arriving: a miss is answered as soon as its own bytes
 * are in, so the rest of its block may still be on its way when the client has its answer.
 */
export async function fillsSettled(endpoint: string, tls?: { ca: string }): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (metricValue(await scrape(`${endpoint}/_s3proxy/metrics`, tls), "s3proxy_cache_reserved_bytes") === 0) return;
    await Bun.sleep(10);
  }
  throw new Error("cache fills still in flight after 2 s");
}

/**
 * Wait until the lower tiers' writes have landed: a fill reaches the tiers in the background
 * once it is in memory, and no gauge counts the writes still on their way, so wait until the
 * tiers' `writes` counter has stood still for `quietMs`. A dropped write never counts: it
 * shows as a miss of the next proxy, which is what a fleet measurement should show anyway.
 */
export async function tierWritesSettled(endpoint: string, quietMs = 300, tls?: { ca: string }): Promise<void> {
  await fillsSettled(endpoint, tls);
  const writes = async () => metricValue(await scrape(`${endpoint}/_s3proxy/metrics`, tls), "s3proxy_cache_tier_events_total", { event: "writes" });
  const deadline = performance.now() + 30_000;
  let last = await writes();
  let since = performance.now();
  while (performance.now() - since < quietMs) {
    if (performance.now() > deadline) throw new Error("cache tier writes still landing after 30 s");
    await Bun.sleep(25);
    const now = await writes();
    if (now !== last) [last, since] = [now, performance.now()];
  }
}
