// --html FILE opened in headless Chromium (Debian's `chromium`), offline: uPlot, inlined in the
// page, draws every chart, and each series' colour is found inside its chart's canvas (a probe
// added to a copy of the page counts the pixels; test/helpers/chromium.ts), with no script error.
// The screenshot of the page itself shows them too. A run without responses has no chart at all.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compareReport } from '../../../src/domain/loadgen-compare.ts';
import { compareHtml } from '../../../src/domain/loadgen-html.ts';
import { readUplotAssets } from '../../../workers/loadgen/uplot-assets.ts';
import { CHROMIUM, probe, screenshot } from '../../helpers/chromium.ts';
import { meta, timedTask } from '../../helpers/loadgen-results.ts';
import { countColor } from '../../helpers/png.ts';
import { CLI, run } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'runsd-loadtest-html-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const skip = !existsSync(CHROMIUM) && `${CHROMIUM} is not installed (.ci/run installs it)`;
// src/domain/loadgen-charts.ts: one report's p50/p90/p99/max; --compare's sides
const [BLUE, GREEN, ORANGE, RED] = ['#1f77b4', '#2ca02c', '#ff7f0e', '#d62728'];

test('a run: three uPlot charts, every series drawn in its canvas, viewable offline', { skip }, async (t) => {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const page = join(dir, 'report.html');
  await run(process.execPath, [
    CLI,
    '-q',
    '-d',
    '2.2',
    '-c',
    '2',
    '-t',
    '1',
    '--html',
    page,
    `http://127.0.0.1:${port}/`,
  ]);
  assert.match(readFileSync(page, 'utf8'), /id="summary">GET http:\/\/127\.0\.0\.1/);

  const seen = await probe(page, dir);
  assert.deepEqual(seen.errors, [], 'no script errors');
  assert.equal(seen.uplots, 3);
  assert.deepEqual(
    seen.charts.map((c) => c.id),
    ['latency', 'throughput', 'percentiles'],
  );
  for (const c of seen.charts) {
    assert.ok(c.canvas && c.canvas[0] >= 400 && c.canvas[1] >= 200, `${c.id} canvas ${c.canvas}`);
    // lines of real data may cross and cover each other in places, never everywhere
    t.diagnostic(`${c.id}: ${JSON.stringify(c.pixels)}`);
    for (const [color, n] of Object.entries(c.pixels)) assert.ok(n >= 50, `${c.id} ${color}: ${n} pixels`);
  }
  const latency = seen.charts[0]!.pixels;
  assert.deepEqual(Object.keys(latency).sort(), [BLUE, GREEN, ORANGE, RED].sort());
  assert.ok(seen.charts[1]!.pixels[BLUE]! >= 100, 'req/s line');
  assert.ok(seen.charts[2]!.pixels[BLUE]! >= 100, 'percentile curve');

  const img = await screenshot(page, join(dir, 'report.png'), dir);
  assert.ok(img.width >= 1000 && img.height >= 1400, `${img.width}×${img.height}`);
  const blue = countColor(img, BLUE);
  assert.ok(blue > 300, `blue pixels on screen: ${blue}`);

  const empty = join(dir, 'empty.html');
  await run(process.execPath, [CLI, '-q', '-n', '3', '-c', '1', '--html', empty, 'http://127.0.0.1:1/']);
  assert.match(readFileSync(empty, 'utf8'), /No responses: nothing to chart/);
  const none = await probe(empty, dir);
  assert.deepEqual([none.uplots, none.charts, none.errors], [0, [], []]);
  assert.equal(countColor(await screenshot(empty, join(dir, 'empty.png'), dir), BLUE), 0, 'no series pixels');
});

test('--compare: both sides drawn on each of the three charts', { skip }, async (t) => {
  const direct = { ...meta, target: { ...meta.target, url: 'https://hello-1.r.run.app/', proxy: null } };
  const c = compareReport(
    [
      { side: 'direct', round: 1, results: [timedTask(3, 1)] },
      { side: 'runsd', round: 1, results: [timedTask(3, 3, 0, 150)] },
    ],
    { direct, runsd: meta },
  );
  const page = join(dir, 'compare.html');
  writeFileSync(page, compareHtml(c, readUplotAssets()));
  const seen = await probe(page, dir);
  assert.deepEqual(seen.errors, []);
  assert.equal(seen.uplots, 3);
  for (const ch of seen.charts) {
    t.diagnostic(`${ch.id}: ${JSON.stringify(ch.pixels)}`);
    assert.deepEqual(Object.keys(ch.pixels).sort(), [BLUE, RED].sort(), ch.id);
    for (const side of [BLUE, RED])
      assert.ok(ch.pixels[side]! >= 100, `${ch.id} ${side}: ${ch.pixels[side]}`);
  }
});
