// The -metrics_addr endpoint of the real bin/runsd (env mode, on the emulator): a scrape that
// Prometheus's own checker accepts, runsd_build_info naming this build, and proxy counts that match
// the requests made. promtool comes from Debian's prometheus package (.ci/run unpacks it; the test
// skips with a message where it is absent).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pkg from '../../package.json' with { type: 'json' };
import { startEmulator } from '../../src/emulator/index.ts';
import { freePort } from '../e2e/runsd.ts';
import { startEnvModeRunsd } from '../helpers/env-mode-runsd.ts';
import { PROMTOOL } from '../helpers/promtool.ts';

const RUNSD = fileURLToPath(new URL('../../bin/runsd', import.meta.url));

function viaProxy(proxyPort: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(
        { host: '127.0.0.1', port: proxyPort, path: `http://hello${path}`, headers: { host: 'hello' } },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
        },
      )
      .on('error', reject);
  });
}

function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}

test('the metrics endpoint: promtool-clean, build info, exact proxy counts', async (t) => {
  const emu = await startEmulator();
  const metricsPort = await freePort();
  const runsd = await startEnvModeRunsd(emu, RUNSD, 'metrics', [`-metrics_addr=127.0.0.1:${metricsPort}`]);
  t.after(async () => {
    await runsd.stop();
    await emu.close();
  });
  const N = 7;
  for (let i = 0; i < N; i++) assert.equal(await viaProxy(runsd.port, `/m${i}`), 200);
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();

  assert.equal(
    sample(text, 'runsd_build_info', { version: pkg.version, node_version: process.versions.node }),
    1,
  );
  // The revision the bundle was built from (or, from source, the checkout's): a commit, or unknown.
  assert.match(/runsd_build_info\{[^}]*revision="([^"]+)"/.exec(text)?.[1] ?? '', /^([0-9a-f]{12}|unknown)$/);
  assert.equal(sample(text, 'runsd_proxy_requests_total', { service: 'hello', code_class: '2xx' }), N);
  // The first request fetched a token; every later one was answered by the proxy's local mirror.
  assert.equal(sample(text, 'runsd_token_cache_hits_total', { cache: 'proxy' }), N - 1);
  assert.equal(sample(text, 'runsd_token_cache_misses_total'), 1);
  // Series that exist before their first event, so rate() sees the first one.
  assert.equal(sample(text, 'runsd_token_fetches_total', { outcome: 'error' }), 0);
  assert.equal(sample(text, 'runsd_proxy_errors_total', { code: 'RUNSD_UPSTREAM_TIMEOUT' }), 0);
  assert.equal(sample(text, 'runsd_supervisor_room_restarts_total', { room: 'proxy' }), 0);
  assert.equal(sample(text, 'runsd_supervisor_room_restarts_total', { room: 'token' }), 0);
  // No gauge may carry a counter's suffix (prom-client's runsd_nodejs_active_*_total did).
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm))
    if (m[2] !== 'counter') assert.ok(!m[1]!.endsWith('_total'), `${m[1]} is a ${m[2]} named _total`);

  if (!PROMTOOL) {
    t.diagnostic('promtool not found (Debian package prometheus): exposition check skipped');
    return;
  }
  // promtool prints each problem and exits 1; a clean scrape prints nothing and exits 0.
  const out = execFileSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(out.trim(), '');
});
