/**
 * The Polars queries the query scenarios run: what each reads is what it measures, so
 * each says which columns and rows it needs.
 */
import pl from "nodejs-polars";
import { TS_STEP, type Dataset } from "../dataset.ts";

export interface Query {
  name: string;
  description: string;
  run(frame: pl.LazyDataFrame, dataset: Dataset): pl.LazyDataFrame;
}

/**
 * An Int64 literal: a JS number becomes a Float64 literal, and comparing the Int64 column
 * with it casts the column, which leaves the row-group statistics unused (every row group read).
 */
const int = (n: number) => pl.lit(n).cast(pl.Int64);

/** Rows [from, from + share of all rows) by `ts`, which is sorted across the files. */
function timeWindow(frame: pl.LazyDataFrame, ds: Dataset, start: number, share: number): pl.LazyDataFrame {
  const from = Math.floor(ds.rows * start) * TS_STEP;
  const to = from + Math.floor(ds.rows * share) * TS_STEP;
  return frame.filter(
    pl
      .col("ts")
      .gtEq(int(from))
      .and(pl.col("ts").lt(int(to))),
  );
}

const LOOKUP: Query = {
  name: "lookup",
  description: "one row by the sorted `id`, all columns: statistics prune to one row group",
  run: (frame, ds) => frame.filter(pl.col("id").eq(int(Math.floor(ds.rows * 0.61)))),
};

/** The `query` scenario's set: one of them reads every row. */
export const ANALYTICS: Query[] = [
  {
    name: "filter",
    description: "time-window filter (2% of rows) with predicate pushdown, 4 columns",
    run: (frame, ds) => timeWindow(frame, ds, 0.37, 0.02).select("id", "ts", "fare", "tip"),
  },
  {
    name: "aggregate",
    description: "group by city: sum, mean, max over 3 float columns of every row",
    run: (frame) => frame.groupBy("city").agg(pl.col("fare").sum().alias("fare"), pl.col("tip").mean().alias("tip"), pl.col("distance").max().alias("distance"), pl.len().alias("n")).sort("city"),
  },
  LOOKUP,
];

/**
 * The `pushdown` scenario's set, the shape of an engine's reads over S3: the footer, then
 * only the row groups and columns a query needs, so few bytes over many ranges.
 */
export const PUSHDOWN: Query[] = [
  LOOKUP,
  {
    name: "window",
    description: "a time window of 4% of the rows by the sorted `ts`, all columns",
    run: (frame, ds) => timeWindow(frame, ds, 0.37, 0.04),
  },
  {
    name: "aggregate",
    description: "sum, mean and max over 2 of the 11 columns, every row",
    run: (frame) => frame.select(pl.col("fare").sum().alias("fare_sum"), pl.col("fare").max().alias("fare_max"), pl.col("tip").mean().alias("tip_mean")),
  },
];
