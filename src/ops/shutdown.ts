/**
 * Graceful shutdown: the first SIGTERM or SIGINT stops accepting connections and lets
 * in-flight requests finish (up to the timeout), then exits 0; a second signal exits at
 * once. Process hooks are injected so the sequence can be driven by tests.
 */
import type { Logger } from "../log.ts";

export type ShutdownSignal = "SIGTERM" | "SIGINT";

export interface ShutdownDeps {
  /** Stop accepting, wait for in-flight requests up to timeoutMs; false when some were cut off. */
  drain(timeoutMs: number): Promise<boolean>;
  timeoutMs: number;
  log: Logger;
  exit(code: number): void;
  onSignal(signal: ShutdownSignal, listener: () => void): void;
}

/** Exit status for a second signal: the shell's convention for "killed by signal N" (128 + N). */
const SIGNAL_EXIT: Record<ShutdownSignal, number> = { SIGINT: 130, SIGTERM: 143 };

export function installGracefulShutdown(deps: ShutdownDeps): void {
  let stopping = false;
  const handle = (signal: ShutdownSignal) => {
    if (stopping) {
      deps.log.warn(`${signal} again: exiting without waiting`);
      deps.exit(SIGNAL_EXIT[signal]);
      return;
    }
    stopping = true;
    const drained = deps.drain(deps.timeoutMs);
    // Logged after the listeners are closed, so "shutting down" means new connections are refused.
    deps.log.info(`${signal}: shutting down; in-flight requests have ${deps.timeoutMs} ms to finish (signal again to exit now)`);
    drained.then(
      (clean) => {
        if (clean) deps.log.info("all requests finished; exiting");
        else deps.log.warn(`shutdown timeout (${deps.timeoutMs} ms): remaining requests were cut off`);
        deps.exit(0);
      },
      (err) => {
        deps.log.error("shutdown failed:", err);
        deps.exit(1);
      },
    );
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) deps.onSignal(signal, () => handle(signal));
}
