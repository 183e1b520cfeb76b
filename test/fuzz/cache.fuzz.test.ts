/**
 * The cache against the model, within CI's budget: every configuration in CONFIGS but the
 * extended ones (the Redis one when redis-server is installed) runs a fixed number of generated requests from a
 * fixed seed (FUZZ_SEED overrides it). The campaigns run at the same time, since they wait
 * far more than they compute; each test reports its own. A failure prints the seed and the
 * shrunk sequence; `bun run fuzz` runs longer campaigns, the Redis Cluster one included.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { CONFIGS, campaign, lanesFor, type CampaignResult } from "./fuzz.ts";

/** Requests per configuration: together at least 20,000. */
const REQUESTS = 5200;
const LANES = 2;
const LENGTH = 60;
/** Requests a generated sequence sends on average (measured), so the runs reach REQUESTS. */
const REQUESTS_PER_SEQUENCE = 80;
const SEED = Number(process.env.FUZZ_SEED ?? 20240614);

const configs = CONFIGS.filter((c) => !c.extended && (!c.redis || Bun.which("redis-server") !== null));
const results = new Map<string, Promise<CampaignResult>>();

beforeAll(() => {
  for (const config of configs) {
    const runs = Math.ceil(REQUESTS / (REQUESTS_PER_SEQUENCE * lanesFor(config, LANES)));
    results.set(config.name, campaign(config, { seed: SEED, lanes: LANES, runs, length: LENGTH, shrinkMs: 20_000 }));
  }
});

describe("the cache answers like the backend it fronts", () => {
  for (const config of configs) {
    test(`${config.name}: every answer is one backend version's, stale by at most meta-ttl, and none hangs`, async () => {
      const result = await results.get(config.name)!;
      for (const report of result.reports) console.error(report + "\n");
      expect(result.reports).toEqual([]);
      expect(result.requests).toBeGreaterThanOrEqual(REQUESTS * 0.8);
      // Bodies cut off halfway reached the proxy (the answers above are the proof it handled them).
      if (config.faults.includes("cut")) expect(result.cuts.served).toBeGreaterThan(0);
    }, 110_000);
  }
});
