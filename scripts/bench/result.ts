/** A scenario's result before it has measured anything: what it is and how it measures. */
import type { ScenarioResult } from "./types.ts";

export function emptyResult(name: string, title: string, method: string): ScenarioResult {
  return { name, title, method, tables: [], charts: [], targets: [], notes: [] };
}
