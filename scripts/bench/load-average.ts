/** The machine's load average, which scenarios note: other work on these shared cores moves every figure. */
import { loadavg } from "node:os";

/** "1.47, 4.26, 6.35": the 1, 5 and 15 minute load averages now. */
export function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");
}

/** The note of a scenario that read `before` when it started. */
export function loadNote(before: string): string {
  return `Load average (1, 5, 15 min) before the scenario: ${before}; after: ${loadAverage()}.`;
}
