// Latency histograms that cross threads. hdr-histogram-js (the HdrHistogram port: 3 significant
// digits, any range, exact max) rather than hand-rolled buckets: percentiles of merged histograms are
// a solved problem. A histogram crosses postMessage as plain [value, count] pairs of its non-empty
// buckets (each value is its bucket's highest equivalent value, so re-recording it into a histogram
// of the same precision lands in the same bucket: merging is lossless). Values are microseconds.
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;
/** [microseconds, count] pairs, ascending */
export type WireHistogram = [number, number][];

export interface LatencySummary {
  count: number;
  /** milliseconds */
  min: number;
  mean: number;
  p50: number;
  p75: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** the percentile distribution's points (HdrHistogram's "nines" plot): [percentile, ms] */
export type PercentileCurve = [number, number][];
const CURVE = [
  0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100,
];

export function createHistogram(): Histogram {
  // 1 µs .. 1 h, auto-resizing past it; JS (not WASM) so it needs no init and no destroy.
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export function histogramToWire(h: Histogram): WireHistogram {
  const out: WireHistogram = [];
  if (h.totalCount === 0) return out;
  const it = (h as hdr.JsHistogram).recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    out.push([v.valueIteratedTo, v.countAtValueIteratedTo]);
  }
  // The last bucket's "highest equivalent value" can exceed the true max; keep the exact max.
  const last = out[out.length - 1];
  if (last) last[0] = Math.min(last[0], h.maxValue);
  return out;
}

export function mergeWire(parts: readonly WireHistogram[]): Histogram {
  const h = createHistogram();
  for (const part of parts) for (const [value, count] of part) h.recordValueWithCount(value, count);
  return h;
}

const ms = (us: number) => Math.round(us) / 1000;

/** null with no values: there are no percentiles of nothing (never print "p50 0.00 ms") */
export function summarize(h: Histogram): LatencySummary | null {
  if (h.totalCount === 0) return null;
  // A percentile reads as its bucket's highest equivalent value, which can pass the exact max.
  const max = h.maxValue;
  const at = (p: number) => ms(Math.min(h.getValueAtPercentile(p), max));
  return {
    count: h.totalCount,
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    p50: at(50),
    p75: at(75),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: ms(max),
  };
}

export function percentileCurve(h: Histogram): PercentileCurve {
  if (h.totalCount === 0) return [];
  const max = h.maxValue;
  return CURVE.map((p) => [p, ms(Math.min(p === 0 ? h.minNonZeroValue : h.getValueAtPercentile(p), max))]);
}
