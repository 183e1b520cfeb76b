/**
 * The cache against the model, within CI's budget: every configuration in CONFIGS (the Redis
 * one when redis-server is installed) runs a fixed number of generated requests from a
 * fixed seed (FUZZ_SEED overrides it). A failure prints the seed and the shrunk sequence;
 * `bun run fuzz` runs longer campaigns.
 */
import { describe, expect, test } from "bun:test";
import { CONFIGS, campaign } from "./fuzz.ts";

/** Requests per configuration: together at least 20,000. */
const REQUESTS = 5200;
const LENGTH = 60;
/** Requests a generated sequence sends on average (measured), so the runs reach REQUESTS. */
const REQUESTS_PER_SEQUENCE = 140;
const SEED = Number(process.env.FUZZ_SEED ?? 20240614);

describe("the cache answers like the backend it fronts", () => {
  for (const config of CONFIGS) {
    const available = !config.redis || Bun.which("redis-server") !== null;
    test.if(available)(`${config.name}: every answer is one backend version's, stale by at most meta-ttl, and none hangs`, async () => {
      const result = await campaign(config, { seed: SEED, runs: Math.ceil(REQUESTS / REQUESTS_PER_SEQUENCE), length: LENGTH, shrinkMs: 15_000 });
      if (result.report) console.error(result.report);
      expect(result.report).toBeUndefined();
      expect(result.requests).toBeGreaterThanOrEqual(REQUESTS * 0.8);
    }, 60_000);
  }
});
