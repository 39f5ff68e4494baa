// Headless Chromium (Debian's `chromium`) for the --html page's tests: a screenshot, and a look
// inside the charts' canvases. The flags keep Chromium's own background traffic off: the page is
// opened from a file with nothing else to talk to.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodePng, type Image } from './png.ts';

export const CHROMIUM = '/usr/bin/chromium';

const flags = (dir: string) => [
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
  '--force-device-scale-factor=1',
  '--window-size=1000,1400',
  // run the page's scripts (and their microtasks) before the screenshot or the DOM dump
  '--virtual-time-budget=5000',
];

export async function screenshot(page: string, png: string, dir: string): Promise<Image> {
  await promisify(execFile)(CHROMIUM, [...flags(dir), `--screenshot=${png}`, `file://${page}`], {
    timeout: 60_000,
  });
  return decodePng(readFileSync(png));
}

/** What the probe saw: script errors, and per chart its canvas and its series' pixel counts. */
export interface Probe {
  errors: string[];
  uplots: number;
  charts: { id: string; canvas: [number, number] | null; pixels: Record<string, number> }[];
}

// Counts, inside each chart's canvas, the pixels drawn in each of its series' colours (the page's
// own JSON block says which), so a line is found where uPlot drew it, not in a legend beside it.
const PROBE = `<script>
(() => {
  const near = (d, i, [r, g, b]) =>
    d[i + 3] > 200 && Math.abs(d[i] - r) <= 24 && Math.abs(d[i + 1] - g) <= 24 && Math.abs(d[i + 2] - b) <= 24;
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const block = document.getElementById('loadtest-data');
  const charts = (block ? JSON.parse(block.textContent).charts : []).map((c) => {
    const canvas = document.querySelector('#chart-' + c.id + ' canvas');
    const pixels = {};
    if (canvas) {
      const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (const s of c.series) {
        const want = rgb(s.stroke);
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (near(d, i, want)) n++;
        pixels[s.stroke] = n;
      }
    }
    return { id: c.id, canvas: canvas ? [canvas.width, canvas.height] : null, pixels };
  });
  const out = { errors: window.__probeErrors, uplots: document.querySelectorAll('.uplot').length, charts };
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.append(pre);
})();
</script>`;
const CATCH = `<script>window.__probeErrors = []; addEventListener('error', (e) => window.__probeErrors.push(String(e.message)));</script>`;

/** Opens a copy of the page with the probe added after its own scripts, and reads what it found. */
export async function probe(page: string, dir: string): Promise<Probe> {
  const html = readFileSync(page, 'utf8');
  const copy = join(dir, `probe-${Date.now()}.html`);
  const end = html.lastIndexOf('</body>');
  writeFileSync(copy, `${html.slice(0, end).replace('<head>', `<head>${CATCH}`)}${PROBE}${html.slice(end)}`);
  const { stdout } = await promisify(execFile)(CHROMIUM, [...flags(dir), '--dump-dom', `file://${copy}`], {
    timeout: 60_000,
    maxBuffer: 16 << 20,
  });
  const m = /<pre id="probe">(.*?)<\/pre>/s.exec(stdout);
  if (!m) throw new Error(`no probe output in the DOM: ${stdout.slice(0, 500)}`);
  // the DOM dump escapes the text: &amp; &lt; &gt; (&amp; last, or &amp;lt; would become <)
  const unentity = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  return JSON.parse(unentity(m[1]!)) as Probe;
}
