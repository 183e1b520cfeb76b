/**
 * The cache fuzzer outside CI's budget: `bun run fuzz -- --seed S --ops N [--config NAME]`
 * runs about N requests per configuration (all of them unless one is named) and prints each
 * failure with its seed and shrunk sequence; `--path P` replays one counterexample.
 */
import { defineCommand, runMain } from "citty";
import { CONFIGS, campaign, lanesFor } from "../test/fuzz/fuzz.ts";

/** Requests a generated sequence sends on average, measured (ops × ~1.35 requests each: sequences are 30 operations long on average). */
const REQUESTS_PER_OP = 1.35;

const main = defineCommand({
  meta: { name: "fuzz", description: "Model-based differential fuzzer of the proxy's cache" },
  args: {
    seed: { type: "string", description: "fast-check seed (default: random)" },
    ops: { type: "string", default: "20000", description: "Requests to send per configuration (about)" },
    length: { type: "string", default: "60", description: "Most operations per generated sequence" },
    lanes: { type: "string", default: "4", description: "Sequences run at once against each proxy" },
    config: { type: "string", description: `One configuration: ${CONFIGS.map((c) => c.name).join(", ")}` },
    path: { type: "string", description: "Replay one counterexample (needs the same --seed and --length)" },
    "shrink-seconds": { type: "string", default: "120", description: "Time spent shrinking a failure" },
  },
  async run({ args }) {
    const configs = CONFIGS.filter((c) => (args.config ? c.name === args.config : !c.redis || Bun.which("redis-server")));
    if (configs.length === 0) throw new Error(`no configuration named ${args.config}`);
    const length = Number(args.length);
    let failed = false;
    for (const config of configs) {
      const lanes = args.path ? 1 : lanesFor(config, Number(args.lanes));
      const runs = Math.max(1, Math.ceil(Number(args.ops) / (length * REQUESTS_PER_OP * lanes)));
      const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
      const r = await campaign(config, { seed, lanes, runs: args.path ? 1 : runs, length, path: args.path, shrinkMs: Number(args["shrink-seconds"]) * 1000 });
      const rate = Math.round(r.searchRequests / (r.searchMs / 1000));
      console.log(
        `${config.name}: seed ${seed} (${lanes} lanes), ${r.searchRequests} requests in ${(r.searchMs / 1000).toFixed(1)} s (${rate}/s)${r.ok ? ", no wrong answer" : ` to the first failure, ${(r.ms / 1000).toFixed(1)} s with shrinking`}${config.faults.includes("cut") ? `, ${r.cuts.served} bodies cut off halfway (${r.cuts.retriedReads} reads asked again)` : ""}`,
      );
      for (const report of r.reports) console.log(report + "\n");
      failed ||= !r.ok;
    }
    process.exitCode = failed ? 1 : 0;
  },
});

void runMain(main);
