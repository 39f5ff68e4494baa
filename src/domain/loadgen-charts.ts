// The --html page's charts as plain data (pure): what each chart plots, in uPlot's column layout
// (data[0] the x values, data[i] series i's y values, null where it has none), so that the page's
// script only hands them to uPlot and every decision about the charts is tested here, in Node.
import type { LoadReport } from './loadgen-report.ts';

export interface SeriesSpec {
  label: string;
  stroke: string;
  width: number;
  /** canvas setLineDash pattern; absent: solid */
  dash?: number[];
}

export interface ChartSpec {
  /** the chart's element is #chart-<id> */
  id: 'latency' | 'throughput' | 'percentiles';
  title: string;
  xLabel: string;
  yLabel: string;
  /** fixed x ticks [value, label] (the nines axis); absent: uPlot picks them */
  xTicks?: [number, string][];
  /** x is whole seconds: ticks on whole numbers only */
  xWhole: boolean;
  /**
   * a log y axis: latency spans decades (p50 in µs, max in tens of ms) and a linear one flattens
   * everything below the max onto zero
   */
  yLog: boolean;
  /** join a line over x values a series has no point at (true where a gap means nothing) */
  spanGaps: boolean;
  series: SeriesSpec[];
  data: (number | null)[][];
}

export interface Side {
  label: string;
  report: LoadReport;
}

/** percentile → x on the nines scale: 0 → 0, 90 → 1, 99 → 2, 99.9 → 3 … (capped at 99.999) */
export const ninesX = (p: number) => Math.min(5, -Math.log10(Math.max(1e-5, 1 - p / 100)));
const NINES: [number, string][] = [
  [0, '0%'],
  [1, '90%'],
  [2, '99%'],
  [3, '99.9%'],
  [4, '99.99%'],
  [5, '99.999%'],
];

// One report: a colour per percentile. --compare: a colour per side (direct blue, runsd red) and a
// dash per percentile, so the two sides stay apart on a chart they share.
const PCT_COLORS = { p50: '#1f77b4', p90: '#2ca02c', p99: '#ff7f0e', max: '#d62728' } as const;
const SIDE_COLORS = ['#1f77b4', '#d62728'] as const;
const ERROR_COLORS = ['#9467bd', '#8c564b'] as const;
const PCT_DASH: Record<keyof typeof PCT_COLORS, number[] | undefined> = {
  p50: undefined,
  p90: [10, 5],
  p99: [4, 4],
  max: [1, 3],
};

type Line = [number, number | null][];

/** Lines with x values of their own → one shared x column (sorted union) and a y column per line. */
export function align(lines: readonly Line[]): (number | null)[][] {
  const xs = [...new Set(lines.flatMap((l) => l.map(([x]) => x)))].sort((a, b) => a - b);
  const cols = lines.map((l) => {
    const at = new Map(l);
    return xs.map((x) => at.get(x) ?? null);
  });
  return [xs, ...cols];
}

function chart(
  base: Omit<ChartSpec, 'series' | 'data'>,
  lines: { spec: SeriesSpec; points: Line }[],
): ChartSpec {
  return {
    ...base,
    series: lines.map((l) => l.spec),
    data: align(lines.map((l) => l.points)),
  };
}

export function charts(sides: readonly Side[]): ChartSpec[] {
  const many = sides.length > 1;
  const name = (side: Side, what: string) => (many ? `${side.label} ${what}` : what);
  const latency: { spec: SeriesSpec; points: Line }[] = [];
  const throughput: { spec: SeriesSpec; points: Line }[] = [];
  const dist: { spec: SeriesSpec; points: Line }[] = [];
  sides.forEach((side, i) => {
    const color = SIDE_COLORS[i % SIDE_COLORS.length]!;
    const tl = side.report.timeline;
    for (const k of ['p50', 'p90', 'p99', 'max'] as const) {
      const dash = many ? PCT_DASH[k] : undefined;
      latency.push({
        spec: {
          label: name(side, k),
          stroke: many ? color : PCT_COLORS[k],
          width: 2,
          ...(dash ? { dash } : {}),
        },
        points: tl.map((p) => [p.t, p[k]]),
      });
    }
    throughput.push({
      spec: { label: name(side, 'req/s'), stroke: color, width: 2 },
      points: tl.map((p) => [p.t, p.reqPerSec]),
    });
    // Only a side that had errors gets an errors line: a flat zero line would hide nothing but clutter.
    if (tl.some((p) => p.errors > 0))
      throughput.push({
        spec: { label: name(side, 'errors/s'), stroke: ERROR_COLORS[i % ERROR_COLORS.length]!, width: 2 },
        points: tl.map((p) => [p.t, p.errors]),
      });
    dist.push({
      spec: { label: name(side, 'latency'), stroke: color, width: 2 },
      points: side.report.percentiles.map(([p, ms]) => [ninesX(p), ms]),
    });
  });
  // The nines axis ends at the first tick past the data (a short run has no 99.999th percentile).
  const top = Math.max(1, ...dist.flatMap((d) => d.points.map(([x]) => Math.ceil(x - 1e-9))));
  return [
    // A second without responses has no latency: a gap, not a line drawn across it.
    chart(
      {
        id: 'latency',
        title: 'Latency over time',
        xLabel: 'seconds',
        yLabel: 'ms',
        xWhole: true,
        yLog: true,
        spanGaps: false,
      },
      latency,
    ),
    chart(
      {
        id: 'throughput',
        title: 'Throughput over time',
        xLabel: 'seconds',
        yLabel: 'per second',
        xWhole: true,
        yLog: false,
        spanGaps: false,
      },
      throughput,
    ),
    chart(
      {
        id: 'percentiles',
        title: 'Latency by percentile',
        xLabel: 'percentile',
        yLabel: 'ms',
        xTicks: NINES.filter(([x]) => x <= top),
        xWhole: false,
        yLog: true,
        spanGaps: true,
      },
      dist,
    ),
  ];
}
