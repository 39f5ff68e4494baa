// --html FILE: one self-contained page. The text report in a <pre>, and charts drawn in the browser
// by uPlot (https://github.com/leeoniya/uPlot, MIT), whose script and stylesheet are inlined with the
// chart data (a JSON block): nothing to fetch, so the page opens offline, from a file, anywhere.
// The charts (src/domain/loadgen-charts.ts): latency over time (p50/p90/p99/max per second),
// throughput over time, latency by percentile on HdrHistogram's "nines" axis; --compare puts both
// sides on each. Pure: uPlot's files come in as text (workers/loadgen/uplot-assets.ts reads them).

import { type ChartSpec, charts, type Side } from './loadgen-charts.ts';
import type { CompareReport } from './loadgen-compare.ts';
import { formatCompare, formatReport } from './loadgen-format.ts';
import { PAGE_SCRIPT } from './loadgen-page-script.ts';
import type { LoadReport } from './loadgen-report.ts';

/** uPlot's files, as text */
export interface UplotAssets {
  version: string;
  /** dist/uPlot.iife.min.js: defines the global uPlot */
  js: string;
  /** dist/uPlot.min.css */
  css: string;
  /** its LICENSE (MIT: the notice travels with the code) */
  license: string;
}

/** what the page's JSON block holds */
export interface PageData {
  title: string;
  charts: ChartSpec[];
}

export const DATA_ID = 'loadtest-data';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * JSON safe inside <script>: every `<` as \u003c, so no string in it (a URL, a gRPC method, a
 * header value) can close the element (`</script>`) or open a comment (`<!--`). JSON.parse reads
 * \u003c back as `<`.
 */
export const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/** Inlined code must not end its own element early; uPlot's never has, a future one might. */
function inline(tag: 'script' | 'style', text: string): string {
  if (new RegExp(`</${tag}`, 'i').test(text)) throw new Error(`loadtest --html: </${tag} in inlined ${tag}`);
  return text;
}

const CSS = `body{font:14px system-ui,sans-serif;margin:24px;color:#222;background:#fff}
pre{background:#f6f6f6;padding:12px;overflow:auto}
.chart{margin:16px 0;border:1px solid #ddd;padding:8px 0}`;

function page(title: string, summary: string, data: PageData | null, uplot: UplotAssets): string {
  const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
`;
  const top = `<h1>${esc(title)}</h1>
<pre id="summary">${esc(summary)}</pre>
`;
  // A run without responses has nothing to chart: no charts, and no 50 KB of uPlot for them.
  if (!data)
    return `${head}<style>${CSS}</style></head><body>
${top}<p id="no-data">No responses: nothing to chart.</p>
</body></html>
`;
  const divs = data.charts.map((c) => `<div class="chart" id="chart-${c.id}"></div>`).join('\n');
  const notice = `/*! uPlot ${uplot.version}, inlined by runsd loadtest --html\n${uplot.license.trim().replaceAll('*/', '* /')}\n*/`;
  return `${head}<style>${inline('style', uplot.css)}</style>
<style>${CSS}</style></head><body>
${top}${divs}
<noscript><p>The charts are drawn by JavaScript; the summary above has the numbers.</p></noscript>
<script type="application/json" id="${DATA_ID}">${scriptJson(data)}</script>
<script>${inline('script', `${notice}\n${uplot.js}`)}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

export function reportHtml(r: LoadReport, uplot: UplotAssets): string {
  const title = `runsd loadtest: ${r.target.grpc ?? r.target.method} ${r.target.url}`;
  const data = r.latencyMs === null ? null : { title, charts: charts([{ label: 'run', report: r }]) };
  return page(title, formatReport(r), data, uplot);
}

export function compareHtml(c: CompareReport, uplot: UplotAssets): string {
  const title = `runsd loadtest --compare: ${c.runsd.target.url} vs ${c.direct.target.url}`;
  const sides: Side[] = [
    { label: 'direct', report: c.direct },
    { label: 'runsd', report: c.runsd },
  ];
  return page(title, formatCompare(c), { title, charts: charts(sides) }, uplot);
}
