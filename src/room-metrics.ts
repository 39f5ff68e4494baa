// Counters, gauges and histograms for the rooms (and the supervisor's own numbers), without
// prom-client. Loading prom-client cost each thread ~35 ms of start-up (bench/startup.ts, same run,
// docs/startup.md); these classes keep plain numbers in Maps and export exactly the JSON that
// prom-client's Registry#getMetricsAsJSON() would (test/room-metrics.test.ts compares the
// rendered text with prom-client's), so the supervisor still merges every thread with prom-client's
// AggregatorRegistry — loaded only when -metrics_addr serves a scrape.
// Same constructor options and methods as prom-client's classes, for what runsd uses of them.
import type { MetricsJson } from './protocol.ts';

type LabelValues<L extends string> = Partial<Record<L, string | number>>;
type Entry = MetricsJson[number];
type Labels = Entry['values'][number]['labels'];

export interface Options<L extends string, M> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  registers?: MetricsRegistry[];
  /** Called before each export (with the metric as `this`), to set values read at scrape time. */
  collect?: (this: M) => void;
}

/** A thread's metrics; `getMetricsAsJSON()` is what the room hands the supervisor per scrape. */
export class MetricsRegistry {
  private readonly metrics: { json(): Entry }[] = [];

  register(metric: { json(): Entry }): void {
    this.metrics.push(metric);
  }

  async getMetricsAsJSON(): Promise<MetricsJson> {
    return this.metrics.map((m) => m.json());
  }
}

abstract class Metric<L extends string, V> {
  readonly name: string;
  readonly help: string;
  protected readonly labelNames: readonly L[];
  protected readonly series = new Map<string, { labels: LabelValues<L>; v: V }>();
  private readonly collectFn: (() => void) | undefined;

  // biome-ignore lint/suspicious/noExplicitAny: each subclass types `this` of its own collect()
  constructor(o: Options<L, any>) {
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labelNames ?? [];
    this.collectFn = o.collect?.bind(this);
    for (const r of o.registers ?? []) r.register(this);
  }

  protected abstract fresh(): V;

  /** The series for these labels (created on first use). Keys join the values in labelNames order. */
  protected at(labels: LabelValues<L> | undefined): V {
    let key = '';
    for (const n of this.labelNames) key += `${labels?.[n] ?? ''}\u0000`;
    let s = this.series.get(key);
    if (!s) {
      const own: LabelValues<L> = {};
      for (const n of this.labelNames) if (labels?.[n] !== undefined) own[n] = labels[n];
      s = { labels: own, v: this.fresh() };
      this.series.set(key, s);
    }
    return s.v;
  }

  protected byPosition(values: (string | number)[]): LabelValues<L> {
    const labels: LabelValues<L> = {};
    this.labelNames.forEach((n, i) => {
      if (values[i] !== undefined) labels[n] = values[i];
    });
    return labels;
  }

  reset(): void {
    this.series.clear();
  }

  protected abstract values(): Entry['values'];
  protected abstract readonly type: Entry['type'];

  json(): Entry {
    if (this.collectFn) this.collectFn();
    // Like prom-client: a metric without labels is 0 until its first event, not absent (a
    // dashboard's rate() and an alert's increase() then see the first one; issue 13).
    else if (this.labelNames.length === 0 && this.series.size === 0) this.at(undefined);
    return { help: this.help, name: this.name, type: this.type, values: this.values(), aggregator: 'sum' };
  }
}

type Cell = { n: number };
const split = <L extends string>(
  a?: LabelValues<L> | number,
  b?: number,
): [LabelValues<L> | undefined, number] => (typeof a === 'number' ? [undefined, a] : [a, b ?? 1]);

/** One number per label set: what counters and gauges share. */
abstract class Scalar<L extends string> extends Metric<L, Cell> {
  protected fresh(): Cell {
    return { n: 0 };
  }
  inc(labels?: LabelValues<L> | number, value?: number): void {
    const [l, v] = split(labels, value);
    this.at(l).n += v;
  }
  protected values(): Entry['values'] {
    return [...this.series.values()].map((s) => ({ value: s.v.n, labels: s.labels as Labels }));
  }
}

export class Counter<L extends string = string> extends Scalar<L> {
  protected readonly type = 'counter';
  // types `this` in collect()
  constructor(o: Options<L, Counter<L>>) {
    super(o);
  }
  /** A child for fixed label values (in labelNames order): no label lookup per increment. */
  labels(...values: (string | number)[]): CounterChild {
    const cell = this.at(this.byPosition(values));
    return {
      inc: (v = 1) => {
        cell.n += v;
      },
    };
  }
}
export interface CounterChild {
  inc(value?: number): void;
}

export class Gauge<L extends string = string> extends Scalar<L> {
  protected readonly type = 'gauge';
  // types `this` in collect()
  constructor(o: Options<L, Gauge<L>>) {
    super(o);
  }
  set(labels: LabelValues<L> | number, value?: number): void {
    const [l, v] = split(labels, value);
    this.at(l).n = v;
  }
  dec(labels?: LabelValues<L> | number, value?: number): void {
    const [l, v] = split(labels, value);
    this.at(l).n -= v;
  }
}

type Buckets = { counts: number[]; sum: number; count: number };

export class Histogram<L extends string = string> extends Metric<L, Buckets> {
  protected readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(o: Options<L, Histogram<L>> & { buckets: readonly number[] }) {
    super(o);
    this.bounds = [...o.buckets].sort((a, b) => a - b);
  }
  protected fresh(): Buckets {
    return { counts: this.bounds.map(() => 0), sum: 0, count: 0 };
  }
  private record(b: Buckets, v: number): void {
    // On the request path (one observation per request or query): a plain loop, no closure.
    for (let i = 0; i < this.bounds.length; i++) {
      if (v <= this.bounds[i]!) {
        b.counts[i]!++;
        break;
      }
    }
    b.sum += v;
    b.count++;
  }
  observe(labels: LabelValues<L> | number, value?: number): void {
    const [l, v] = split(labels, value);
    this.record(this.at(l), v);
  }
  labels(...values: (string | number)[]): HistogramChild {
    const b = this.at(this.byPosition(values));
    return { observe: (v) => this.record(b, v) };
  }
  /** Returns a function that observes the seconds elapsed since this call. */
  startTimer(labels?: LabelValues<L>): () => number {
    const t0 = process.hrtime.bigint();
    return () => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      this.record(this.at(labels), s);
      return s;
    };
  }
  protected values(): Entry['values'] {
    const out: Entry['values'] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, v } of this.series.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += v.counts[i]!;
        out.push({ value: acc, metricName: bucket, labels: { le, ...labels } as Labels });
      });
      out.push({ value: v.count, metricName: bucket, labels: { le: '+Inf', ...labels } as Labels });
      out.push({ value: v.sum, metricName: `${this.name}_sum`, labels: { ...labels } as Labels });
      out.push({ value: v.count, metricName: `${this.name}_count`, labels: { ...labels } as Labels });
    }
    return out;
  }
}
export interface HistogramChild {
  observe(value: number): void;
}

/**
 * Several threads' metrics as one (the DNS room's helper threads): values with the same name and
 * labels summed, as prom-client's AggregatorRegistry does for counters, gauges and histograms.
 */
export function mergeMetrics(all: MetricsJson[]): MetricsJson {
  const byName = new Map<string, Entry>();
  const cells = new Map<string, { value: number }>();
  for (const metrics of all) {
    for (const m of metrics) {
      let into = byName.get(m.name);
      if (!into) {
        into = { ...m, values: [] };
        byName.set(m.name, into);
      }
      for (const v of m.values) {
        const key = `${m.name}\u0000${(v as { metricName?: string }).metricName ?? ''}\u0000${JSON.stringify(v.labels)}`;
        const have = cells.get(key);
        if (have) have.value += v.value;
        else {
          const copy = { ...v };
          cells.set(key, copy);
          into.values.push(copy);
        }
      }
    }
  }
  return [...byName.values()];
}
