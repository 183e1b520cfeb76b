/**
 * Graceful shutdown: the first SIGTERM or SIGINT stops accepting connections and lets
 * in-flight requests finish (up to the timeout), then exits 0; a second signal, sent once
 * the first has been taken in, exits at once. Process hooks are injected so the sequence
 * can be driven by tests.
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
  /** Run `fn` after `ms` without keeping the process alive for it. */
  later(ms: number, fn: () => void): void;
}

/** Exit status for a second signal: the shell's convention for "killed by signal N" (128 + N). */
const SIGNAL_EXIT: Record<ShutdownSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * A signal this soon after the first is the same request to stop. Ctrl-C in a terminal and
 * `kill -TERM -<pgid>` reach every process of the group, and `bun run` forwards what it gets
 * to its child: the proxy sees each signal twice, about 1 ms apart (more on a loaded machine).
 * Someone pressing Ctrl-C again to force the exit takes longer than this.
 */
export const REPEAT_WINDOW_MS = 500;

export function installGracefulShutdown(deps: ShutdownDeps): void {
  let stopping = false;
  let forceable = false;
  const handle = (signal: ShutdownSignal) => {
    if (stopping) {
      if (!forceable) {
        deps.log.debug(`${signal} again within ${REPEAT_WINDOW_MS} ms: taken as the same request to stop`);
        return;
      }
      deps.log.warn(`${signal} again: exiting without waiting`);
      deps.exit(SIGNAL_EXIT[signal]);
      return;
    }
    stopping = true;
    deps.later(REPEAT_WINDOW_MS, () => {
      forceable = true;
      deps.log.debug("a further SIGTERM or SIGINT now exits at once");
    });
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
