// The page as text: self-contained (nothing it could fetch), its JSON block reads back as the
// charts it was made from, and nothing in the data can end the block early.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { charts } from '../../src/domain/loadgen-charts.ts';
import { compareReport } from '../../src/domain/loadgen-compare.ts';
import {
  compareHtml,
  DATA_ID,
  type PageData,
  reportHtml,
  scriptJson,
} from '../../src/domain/loadgen-html.ts';
import { mergeResults } from '../../src/domain/loadgen-report.ts';
import { readUplotAssets } from '../../workers/loadgen/uplot-assets.ts';
import { meta, task, timedTask } from '../helpers/loadgen-results.ts';

const uplot = readUplotAssets();
const UPLOT_HOME = 'https://github.com/leeoniya/uPlot';
// the summary names the proxy the run went through
const PROXY = meta.target.proxy!;

function dataBlock(html: string): string {
  const m = new RegExp(`<script type="application/json" id="${DATA_ID}">(.*?)</script>`, 's').exec(html);
  assert.ok(m, 'the JSON block');
  return m[1]!;
}

/** Everything in the page that names a resource: a URL, or an attribute or CSS rule that loads one. */
function references(html: string): { urls: string[]; loaders: string[] } {
  return {
    urls: [...html.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>)\\]*/gi)].map((m) => m[0]),
    loaders: [
      ...html.matchAll(
        /\b(?:src|href|srcset|action|poster)\s*=|url\(|@import|<link|<iframe|<img|fetch\(|XMLHttpRequest|import\(/gi,
      ),
    ].map((m) => m[0]),
  };
}

test('the page inlines uPlot and fetches nothing: the only URLs are the target’s and uPlot’s home', () => {
  const html = reportHtml(mergeResults([timedTask(3, 1)], meta), uplot);
  assert.ok(html.includes(uplot.js) && html.includes(uplot.css), 'uPlot inlined as it is');
  assert.match(html, /Copyright \(c\) 2022 Leon Sorokin/, 'with its licence');
  assert.ok(uplot.js.length > 20_000, `uPlot is ${uplot.js.length} bytes`);
  const { urls, loaders } = references(html);
  assert.deepEqual(loaders, []);
  assert.deepEqual([...new Set(urls)].sort(), [UPLOT_HOME, meta.target.url, PROXY].sort());
  // the charts' places, and the summary
  for (const id of ['latency', 'throughput', 'percentiles']) assert.ok(html.includes(`id="chart-${id}"`), id);
  assert.match(html, /<pre id="summary">GET http:\/\/hello\/ via proxy/);
});

test('the check can fail: a script, a stylesheet or a fetch from elsewhere is caught', () => {
  const { urls, loaders } = references(
    `<script src="https://cdn.example/u.js"></script><link rel=stylesheet href=//cdn.example/u.css>
<style>@import 'x.css';</style><script>fetch('http://x.example/')</script>`,
  );
  assert.deepEqual(urls, ['https://cdn.example/u.js', 'http://x.example/']);
  assert.deepEqual(loaders, ['src=', '<link', 'href=', '@import', 'fetch(']);
});

test('the JSON block round-trips, and a `</script>` or `<!--` in the data cannot end it', () => {
  const evil = '/x.Y/</script><script>alert(1)</script><!--';
  const r = mergeResults([timedTask(2, 1, 3)], { ...meta, target: { ...meta.target, grpc: evil } });
  const html = reportHtml(r, uplot);
  const raw = dataBlock(html);
  assert.ok(!raw.includes('<'), 'no < at all inside the block');
  const data = JSON.parse(raw) as PageData;
  assert.deepEqual(data, {
    title: `runsd loadtest: ${evil} http://hello/`,
    charts: charts([{ label: 'run', report: r }]),
  });
  // three scripts (data, uPlot, the page's): the evil one did not make a fourth
  assert.equal(html.match(/<script\b/g)?.length, 3);
  assert.equal(html.match(/<\/script>/g)?.length, 3);
  assert.ok(html.includes('<title>runsd loadtest: /x.Y/&#60;/script&#62;'), 'escaped in the title');
  assert.equal(JSON.parse(scriptJson('a</b<!--c')), 'a</b<!--c');
});

test('--compare: one page, both sides in the data', () => {
  const direct = { ...meta, target: { ...meta.target, url: 'https://hello-1.r.run.app/', proxy: null } };
  const c = compareReport(
    [
      { side: 'direct', round: 1, results: [timedTask(2, 1)] },
      { side: 'runsd', round: 1, results: [timedTask(2, 2)] },
    ],
    { direct, runsd: meta },
  );
  const html = compareHtml(c, uplot);
  const data = JSON.parse(dataBlock(html)) as PageData;
  assert.deepEqual(
    data.charts.map((ch) => ch.series.map((s) => s.label.split(' ')[0])),
    [
      ['direct', 'direct', 'direct', 'direct', 'runsd', 'runsd', 'runsd', 'runsd'],
      ['direct', 'runsd'],
      ['direct', 'runsd'],
    ],
  );
  assert.deepEqual(
    [...new Set(references(html).urls)].sort(),
    [UPLOT_HOME, meta.target.url, PROXY, direct.target.url].sort(),
  );
  assert.match(html, /runsd vs direct: throughput ×/, 'the compare summary');
});

test('no responses: the summary and a note, no charts and no uPlot', () => {
  const html = reportHtml(mergeResults([task([], { errors: { ECONNREFUSED: 3 } })], meta), uplot);
  assert.match(html, /No responses: nothing to chart/);
  assert.doesNotMatch(html, /<script|uPlot|class="chart"/);
});

test('inlined code that would close its own element is refused, not written', () => {
  const r = mergeResults([timedTask(1, 1)], meta);
  assert.throws(() => reportHtml(r, { ...uplot, js: 'var s = "</script>";' }), /<\/script in inlined script/);
  assert.throws(() => reportHtml(r, { ...uplot, css: 'a{}</style>' }), /<\/style in inlined style/);
});
