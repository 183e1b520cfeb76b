import { describe, expect, test } from "bun:test";
import { createConsola, type LogObject } from "consola";
import { installGracefulShutdown, REPEAT_WINDOW_MS, type ShutdownSignal } from "../../src/ops/shutdown.ts";

function harness(drainResult: Promise<boolean>) {
  const listeners = new Map<ShutdownSignal, () => void>();
  const exits: number[] = [];
  const drains: number[] = [];
  const lines: LogObject[] = [];
  const timers: Array<() => void> = [];
  installGracefulShutdown({
    drain: (ms) => {
      drains.push(ms);
      return drainResult;
    },
    timeoutMs: 30_000,
    log: createConsola({ level: 3, reporters: [{ log: (e) => void lines.push(e) }] }),
    exit: (code) => void exits.push(code),
    onSignal: (signal, listener) => void listeners.set(signal, listener),
    later: (ms, fn) => {
      expect(ms).toBe(REPEAT_WINDOW_MS);
      timers.push(fn);
    },
  });
  /** The repeat window is over. */
  const windowPasses = () => {
    for (const fn of timers.splice(0)) fn();
  };
  return { signal: (s: ShutdownSignal) => listeners.get(s)!(), windowPasses, exits, drains, lines };
}

describe("graceful shutdown", () => {
  test("SIGTERM drains with the configured timeout and exits 0 only once the drain is over", async () => {
    let finish!: (clean: boolean) => void;
    const h = harness(new Promise((r) => (finish = r)));
    h.signal("SIGTERM");
    expect(h.drains).toEqual([30_000]);
    await Bun.sleep(0);
    expect(h.exits).toEqual([]);
    finish(true);
    await Bun.sleep(0);
    expect(h.exits).toEqual([0]);
  });

  test("a second signal while draining, after the repeat window, exits at once with the signal's conventional status", () => {
    const h = harness(new Promise(() => {}));
    h.signal("SIGINT");
    h.windowPasses();
    h.signal("SIGINT");
    expect(h.exits).toEqual([130]);
    expect(h.drains).toHaveLength(1);
  });

  test("a repeat within the window (a process group's signal forwarded by bun run) is the same request: it keeps draining", () => {
    const h = harness(new Promise(() => {}));
    h.signal("SIGTERM");
    h.signal("SIGTERM");
    h.signal("SIGINT");
    expect(h.exits).toEqual([]);
    expect(h.drains).toHaveLength(1);
    h.windowPasses();
    h.signal("SIGTERM");
    expect(h.exits).toEqual([143]);
  });

  test("a drain cut short by the timeout still exits 0, with a warning", async () => {
    const h = harness(Promise.resolve(false));
    h.signal("SIGTERM");
    await Bun.sleep(0);
    expect(h.exits).toEqual([0]);
    expect(h.lines.some((l) => l.type === "warn" && String(l.args[0]).includes("shutdown timeout"))).toBe(true);
  });
});
