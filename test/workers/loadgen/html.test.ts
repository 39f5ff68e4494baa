// --html FILE opened in headless Chromium (Debian's `chromium`): the page renders offline (no
// script, no network: the flags below keep Chromium's own background traffic off too) and its
// charts have lines in them — counted in the screenshot's pixels, in the series' colours. A page
// from a run with no responses is screenshotted the same way and must have none.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { countColor, decodePng } from '../../helpers/png.ts';
import { CLI, run } from './run-cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'runsd-loadtest-html-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function screenshot(page: string, png: string): Promise<ReturnType<typeof decodePng>> {
  await promisify(execFile)(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      `--user-data-dir=${join(dir, 'profile')}`,
      '--window-size=800,1100',
      `--screenshot=${png}`,
      `file://${page}`,
    ],
    { timeout: 60_000 },
  );
  return decodePng(readFileSync(png));
}

test('the HTML report: summary, three charts with lines, viewable offline', {
  skip: !existsSync(CHROMIUM) && `${CHROMIUM} is not installed (.ci/run installs it)`,
}, async (t) => {
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
  const html = readFileSync(page, 'utf8');
  assert.doesNotMatch(html, /<script|src=["']?http|href=["']?http/i, 'self-contained');
  assert.equal(html.match(/<svg /g)?.length, 3);
  assert.match(html, /id="summary">GET http:\/\/127\.0\.0\.1/);
  const img = await screenshot(page, join(dir, 'report.png'));
  assert.ok(img.width >= 700 && img.height >= 1000, `${img.width}×${img.height}`);
  // p50/req/s/latency lines are #1f77b4, p99 is #d62728 (src/domain/loadgen-html.ts)
  const blue = countColor(img, '#1f77b4');
  const red = countColor(img, '#d62728');
  assert.ok(blue > 300, `blue chart pixels: ${blue}`);
  assert.ok(red > 100, `red chart pixels: ${red}`);

  const empty = join(dir, 'empty.html');
  await run(process.execPath, [CLI, '-q', '-n', '3', '-c', '1', '--html', empty, 'http://127.0.0.1:1/']);
  assert.match(readFileSync(empty, 'utf8'), /No responses: nothing to chart/);
  const none = await screenshot(empty, join(dir, 'empty.png'));
  assert.equal(countColor(none, '#1f77b4'), 0, 'no chart, no series pixels');
});
