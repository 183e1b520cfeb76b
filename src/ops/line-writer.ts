/**
 * Log lines written in batches: one write per burst instead of one per request, so the
 * access log does not cap the proxy's throughput. Lines wait at most `maxDelayMs` (or until
 * `maxBytes` are pending) and are flushed when the process exits.
 */
export type LineWriter = (line: string) => void;

export function batchedLineWriter(sink: (chunk: string) => void, maxDelayMs = 50, maxBytes = 64 * 1024): LineWriter {
  let pending: string[] = [];
  let bytes = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const chunk = pending.join("");
    pending = [];
    bytes = 0;
    sink(chunk);
  };
  process.on("exit", flush);
  return (line) => {
    pending.push(line + "\n");
    bytes += line.length + 1;
    if (bytes >= maxBytes) flush();
    else timer ??= setTimeout(flush, maxDelayMs);
  };
}
