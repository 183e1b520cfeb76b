/**
 * A minimal Prometheus registry: counters and histograms kept here, gauges and counters
 * read from elsewhere at scrape time, all rendered in the text exposition format (0.0.4).
 * Pure: no I/O, nothing runs between scrapes.
 */

export type Labels = Readonly<Record<string, string>>;

/** Samples a collected metric reports at scrape time: one unlabelled value, or one per label set. */
export type Collected = number | ReadonlyArray<readonly [Labels, number]>;

interface Metric {
  readonly name: string;
  render(): string;
}

/** One series' identity: label pairs in name order (label values cannot contain U+0000). */
function labelKey(labels: Labels): string {
  const names = Object.keys(labels);
  // Callers nearly always pass labels in one order: sort only when they are not in order.
  for (let i = 1; i < names.length; i++) {
    if (names[i - 1]! > names[i]!) {
      names.sort();
      break;
    }
  }
  let key = "";
  for (const name of names) key += `${name}\u0000${labels[name]}\u0000`;
  return key;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${name} ${type}\n`;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    this.series(labels).value += by;
  }

  /** One label set's series, to keep and increment directly (no label key per increment). */
  series(labels: Labels): { value: number } {
    const key = labelKey(labels);
    let entry = this.values.get(key);
    if (!entry) this.values.set(key, (entry = { labels, value: 0 }));
    return entry;
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels))?.value ?? 0;
  }

  /** Sum over every label set. */
  total(): number {
    let sum = 0;
    for (const { value } of this.values.values()) sum += value;
    return sum;
  }

  render(): string {
    let out = header(this.name, this.help, "counter");
    for (const { labels, value } of this.values.values()) out += `${this.name}${formatLabels(labels)} ${formatValue(value)}\n`;
    return out;
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    this.observer(labels)(value);
  }

  /** One label set's observe function, to keep and call directly (no label key per observation). */
  observer(labels: Labels): (value: number) => void {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    const series = s;
    const buckets = this.buckets;
    return (value) => {
      // Buckets are rendered cumulatively; only the first bucket that fits is counted here.
      for (let i = 0; i < buckets.length; i++) {
        if (value <= buckets[i]!) {
          series.counts[i]!++;
          break;
        }
      }
      series.sum += value;
      series.count++;
    };
  }

  render(): string {
    let out = header(this.name, this.help, "histogram");
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += counts[i]!;
        out += `${this.name}_bucket${formatLabels({ ...labels, le: formatValue(le) })} ${cumulative}\n`;
      });
      out += `${this.name}_bucket${formatLabels({ ...labels, le: "+Inf" })} ${count}\n`;
      out += `${this.name}_sum${formatLabels(labels)} ${formatValue(sum)}\n`;
      out += `${this.name}_count${formatLabels(labels)} ${count}\n`;
    }
    return out;
  }
}

/** A value owned by another component (a cache counter, a server gauge), read when scraped. */
class CollectedMetric implements Metric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly type: "counter" | "gauge",
    private readonly collect: () => Collected,
  ) {}

  render(): string {
    const v = this.collect();
    const samples = typeof v === "number" ? [[{}, v] as const] : v;
    let out = header(this.name, this.help, this.type);
    for (const [labels, value] of samples) out += `${this.name}${formatLabels(labels)} ${formatValue(value)}\n`;
    return out;
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class Registry {
  private readonly metrics = new Map<string, Metric>();

  private add<M extends Metric>(metric: M): M {
    if (!METRIC_NAME.test(metric.name)) throw new Error(`invalid metric name ${metric.name}`);
    if (this.metrics.has(metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.metrics.set(metric.name, metric);
    return metric;
  }

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(
      new Histogram(
        name,
        help,
        [...buckets].sort((a, b) => a - b),
      ),
    );
  }

  /** A counter whose value lives elsewhere (it must only ever grow). */
  collectedCounter(name: string, help: string, collect: () => Collected): void {
    this.add(new CollectedMetric(name, help, "counter", collect));
  }

  gauge(name: string, help: string, collect: () => Collected): void {
    this.add(new CollectedMetric(name, help, "gauge", collect));
  }

  render(): string {
    let out = "";
    for (const metric of this.metrics.values()) out += metric.render();
    return out;
  }
}

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
