/**
 * Log lines written in batches: one write per burst instead of one per request, so the
 * access log does not cap the proxy's throughput. Lines wait at most `maxDelayMs` (or until
 * `maxBytes` are pending) and are flushed when the process exits.
 */
export type LineWriter = (line: string) => void;

export function batchedLineWriter(sink: (chunk: string) => void, maxDelayMs = 50, maxBytes = 64 * 1024): LineWriter {
  // One growing string: appending is cheaper than an array of lines joined at the flush.
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const chunk = pending;
    pending = "";
    sink(chunk);
  };
  process.on("exit", flush);
  return (line) => {
    pending += line + "\n";
    if (pending.length >= maxBytes) flush();
    else timer ??= setTimeout(flush, maxDelayMs);
  };
}
