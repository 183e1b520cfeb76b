/** The shapes a scenario reports in; report.ts and svg.ts render them. */

export interface Table {
  caption?: string;
  columns: string[];
  rows: string[][];
}

export interface Bar {
  series: string;
  value: number;
  /** Spread of the repetitions, drawn as a whisker. */
  min?: number;
  max?: number;
}

export interface BarChart {
  kind: "bars";
  /** File name under bench/, e.g. "hit-throughput.svg". */
  file: string;
  title: string;
  unit: string;
  groups: { label: string; bars: Bar[] }[];
}

export interface LineChart {
  kind: "lines";
  file: string;
  title: string;
  xUnit: string;
  yUnit: string;
  series: { name: string; points: [number, number][] }[];
  /** Horizontal reference lines, e.g. a limit. */
  marks?: { label: string; y: number }[];
}

export type Chart = BarChart | LineChart;

export interface Target {
  goal: string;
  measured: string;
  /** null: could not be measured in this run. */
  met: boolean | null;
}

export interface ScenarioResult {
  name: string;
  title: string;
  /** What was measured and how, one paragraph. */
  method: string;
  tables: Table[];
  charts: Chart[];
  targets: Target[];
  notes: string[];
  /** Wall time of the scenario, seconds. */
  seconds?: number;
  /** When it finished (ISO 8601, UTC). */
  finishedAt?: string;
}
