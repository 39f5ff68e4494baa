// --html FILE: one self-contained page (no script, no network: inline SVG and CSS) with, for each
// report, latency over time (p50/p99 per second), throughput over time and the percentile
// distribution on HdrHistogram's "nines" scale; --compare puts both sides on the same charts.
import type { CompareReport } from './loadgen-compare.ts';
import { formatCompare, formatReport } from './loadgen-format.ts';
import type { LoadReport } from './loadgen-report.ts';
import { lineChart, type Series } from './loadgen-svg.ts';

const COLORS: [string, string][] = [
  ['#1f77b4', '#d62728'],
  ['#2ca02c', '#ff7f0e'],
];
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
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

function charts(sides: { label: string; report: LoadReport }[]): string {
  const latency: Series[] = [];
  const rate: Series[] = [];
  const dist: Series[] = [];
  sides.forEach(({ label, report }, i) => {
    const [a, b] = COLORS[i % COLORS.length] ?? ['#000', '#555'];
    const pre = sides.length > 1 ? `${label} ` : '';
    latency.push(
      { name: `${pre}p50`, color: a, points: report.timeline.map((p) => [p.t, p.p50]) },
      { name: `${pre}p99`, color: b, points: report.timeline.map((p) => [p.t, p.p99]) },
    );
    rate.push({ name: `${pre}req/s`, color: a, points: report.timeline.map((p) => [p.t, p.reqPerSec]) });
    dist.push({
      name: `${pre}latency`,
      color: a,
      points: report.percentiles.map(([p, ms]) => [ninesX(p), ms]),
    });
  });
  return [
    lineChart({ title: 'Latency over time', yLabel: 'ms', xLabel: 'seconds', series: latency }),
    lineChart({ title: 'Throughput over time', yLabel: 'req/s', xLabel: 'seconds', series: rate }),
    lineChart({
      title: 'Latency by percentile',
      yLabel: 'ms',
      xLabel: 'percentile',
      series: dist,
      xTicks: NINES,
    }),
  ].join('\n');
}

function page(title: string, summary: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222;background:#fff}
pre{background:#f6f6f6;padding:12px;overflow:auto}
.chart{display:block;margin:16px 0;border:1px solid #ddd}
.chart .title{font-weight:600;font-size:14px}.chart .tick{font-size:11px;fill:#555}.chart .axis{font-size:12px;fill:#333}
.chart .grid{stroke:#e5e5e5}
</style></head><body>
<h1>${esc(title)}</h1>
<pre id="summary">${esc(summary)}</pre>
${body}
</body></html>
`;
}

export function reportHtml(r: LoadReport): string {
  const title = `runsd loadtest: ${r.target.grpc ?? r.target.method} ${r.target.url}`;
  if (r.latencyMs === null)
    return page(title, formatReport(r), '<p id="no-data">No responses: nothing to chart.</p>');
  return page(title, formatReport(r), charts([{ label: 'run', report: r }]));
}

export function compareHtml(c: CompareReport): string {
  const title = `runsd loadtest --compare: ${c.runsd.target.url} vs ${c.direct.target.url}`;
  return page(
    title,
    formatCompare(c),
    charts([
      { label: 'direct', report: c.direct },
      { label: 'runsd', report: c.runsd },
    ]),
  );
}
