/**
 * The `pushdown` queries and the `signed-ranges` reads through ours at several block
 * sizes, on the S3-shaped link, to choose the default: a larger block wastes more of a
 * paced connection on bytes no one asked for, a smaller one costs more first bytes.
 */
import type { BenchContext } from "../config.ts";
import { describeLink } from "../link.ts";
import { formatBytes, formatRatio, formatSummary, ratio, summarize } from "../stats.ts";
import { emptyResult } from "../result.ts";
import type { ScenarioResult } from "../types.ts";
import { measureQueries, prepareWorkload, wrongAnswers, type Path, type Results } from "./_queries.ts";
import { PUSHDOWN as QUERIES } from "./_query-sets.ts";
import { measureRanges, prepareRanges, type RangeRun } from "./_ranges.ts";

export async function blockSize(ctx: BenchContext): Promise<ScenarioResult> {
  const { config } = ctx;
  const w = await prepareWorkload(ctx, config.pushdown.dataset, QUERIES);
  const result = emptyResult(
    "block-size",
    "Block size",
    `**Link: ${describeLink(config.link)}.** The \`pushdown\` queries (same dataset) and the \`signed-ranges\` reads (${config.ranges.requests} signed GETs, ${config.ranges.inFlight} in flight, ours with \`--auth sigv4\`) through ours cold and warm at block sizes ${config.blockSizes.map(formatBytes).join(", ")}, with local files and direct in the same run for the ratios; backend requests and bytes counted at the relay. Median of ${config.reps} repetitions (min–max).`,
  );
  const paths: Path[] = [{ label: "local", kind: "local" }, { label: "direct", kind: "direct" }, ...config.blockSizes.map((b): Path => ({ label: formatBytes(b), kind: "ours", blockSize: b }))];
  const ranges = new Map<string, RangeRun[]>();
  let results: Results;
  try {
    results = await measureQueries(ctx, w, paths);
    const rw = await prepareRanges(ctx, w.relay);
    for (let rep = 0; rep < config.reps; rep++) {
      for (const [label, run] of await measureRanges(ctx, rw, { kind: "direct" })) ranges.set(label, [...(ranges.get(label) ?? []), run]);
      for (const b of config.blockSizes) {
        for (const [run, r] of await measureRanges(ctx, rw, { kind: "ours", blockSize: b })) {
          const label = `${formatBytes(b)} ${run}`;
          ranges.set(label, [...(ranges.get(label) ?? []), r]);
          ctx.log(`block-size ranges ${label}: ${r.ms.toFixed(0)} ms, ${r.requests} backend requests, ${formatBytes(r.bytes)}`);
        }
      }
    }
  } finally {
    await w.stop();
  }
  const total = (label: string, f: "ms" | "requests" | "bytes") => QUERIES.reduce((sum, q) => sum + summarize(results.get(label)?.get(q.name)?.[f] ?? []).median, 0);
  const totals = (label: string) => {
    // Sum over queries, per repetition, so the spread is the spread of the sum.
    const per = QUERIES.map((q) => results.get(label)?.get(q.name)?.ms ?? []);
    return summarize(per[0]!.map((_, i) => per.reduce((s, xs) => s + (xs[i] ?? NaN), 0)));
  };
  const rows = config.blockSizes.map((b) => {
    const l = formatBytes(b);
    return [
      l,
      formatSummary(totals(`${l} cold`), 0),
      formatSummary(totals(`${l} warm`), 0),
      String(total(`${l} cold`, "requests")),
      formatBytes(total(`${l} cold`, "bytes")),
      formatRatio(ratio(total(`${l} cold`, "ms"), total("direct", "ms"))),
      formatRatio(ratio(total(`${l} warm`, "ms"), total("local", "ms"))),
    ];
  });
  result.tables.push({
    caption: `Pushdown queries, sum of the 3; local ${formatSummary(totals("local"), 0)} ms, direct ${formatSummary(totals("direct"), 0)} ms, ${total("direct", "requests")} backend requests, ${formatBytes(total("direct", "bytes"))}`,
    columns: ["block", "cold ms", "warm ms", "cold backend requests", "cold backend bytes", "cold ÷ direct", "warm ÷ local"],
    rows,
  });
  const r = (label: string, f: "ms" | "requests" | "bytes") => summarize((ranges.get(label) ?? []).map((x) => x[f]));
  result.tables.push({
    caption: `Signed ranges, all ${config.ranges.requests} requests; direct ${formatSummary(r("direct", "ms"), 0)} ms, ${r("direct", "requests").median} backend requests, ${formatBytes(r("direct", "bytes").median)}`,
    columns: ["block", "cold ms", "warm ms", "cold backend requests", "cold backend bytes", "cold ÷ direct"],
    rows: config.blockSizes.map((b) => {
      const l = formatBytes(b);
      return [
        l,
        formatSummary(r(`${l} cold`, "ms"), 0),
        formatSummary(r(`${l} warm`, "ms"), 0),
        String(r(`${l} cold`, "requests").median),
        formatBytes(r(`${l} cold`, "bytes").median),
        formatRatio(ratio(r(`${l} cold`, "ms").median, r("direct", "ms").median)),
      ];
    }),
  });
  const fastest = (ms: (b: number) => number) => formatBytes([...config.blockSizes].sort((a, b) => ms(a) - ms(b))[0]!);
  result.notes.push(`Fastest cold in this run: queries ${fastest((b) => totals(`${formatBytes(b)} cold`).median)}, signed ranges ${fastest((b) => r(`${formatBytes(b)} cold`, "ms").median)} (the default is ${formatBytes(config.blockSize)}).`);
  const wrong = wrongAnswers(results, "local", QUERIES);
  if (wrong.length) result.notes.push(`**Answers differing from the local files**: ${wrong.join(", ")}.`);
  const wrongBodies = [...ranges.values()].flat().reduce((n, x) => n + x.wrong, 0);
  if (wrongBodies) result.notes.push(`**${wrongBodies} range bodies differed from the object's bytes.**`);
  result.charts.push({
    kind: "bars",
    file: "block-size.svg",
    title: `Pushdown queries (sum of 3) and signed ranges by block size, link: ${describeLink(config.link)} (median, whisker = min–max)`,
    unit: "ms",
    groups: config.blockSizes.map((b) => {
      const l = formatBytes(b);
      return {
        label: l,
        bars: [
          ...(["cold", "warm"] as const).map((t) => ({ series: `queries ${t}`, value: totals(`${l} ${t}`).median, min: totals(`${l} ${t}`).min, max: totals(`${l} ${t}`).max })),
          ...(["cold", "warm"] as const).map((t) => ({ series: `ranges ${t}`, value: r(`${l} ${t}`, "ms").median, min: r(`${l} ${t}`, "ms").min, max: r(`${l} ${t}`, "ms").max })),
        ],
      };
    }),
  });
  return result;
}
