// The dashboard against a real Prometheus (Debian's package, the binary run by hand — never its
// service): the real bin/runsd in DNS mode on the emulator test bed, scraped every second while an
// app makes every kind of traffic (HTTP/1.1, h2c, gRPC, WebSocket, DNS local/forwarded/NXDOMAIN over
// UDP and TCP, a 5xx from the service, an error runsd answers itself). Then every expression of
// every panel, with Grafana's variables substituted, must parse and return at least one series.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PROMETHEUS, PROMTOOL } from '../helpers/promtool.ts';
import { runInTestbed, testbedAvailable } from '../helpers/testbed.ts';

const NODE = process.execPath;
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const skip = !testbedAvailable()
  ? 'needs root and unshare'
  : !PROMETHEUS && 'prometheus not found (Debian package prometheus; .ci/run unpacks it)';

// One round of an app's traffic; the rounds are spread over several scrapes so every rate() has
// samples on both sides of an increase.
const round = `
curl -sS -o /dev/null http://hello/one
curl -sS -o /dev/null http://billing/route
curl -sS -o /dev/null --http2-prior-knowledge http://hello.us-central1/h2c
curl -sS -o /dev/null http://hello/status/503
curl -sS -o /dev/null http://hello/status/404
curl -sS -o /dev/null -H 'Host: bad_name' http://127.0.0.1/
${NODE} ${here('../e2e/clients/grpc.ts')} > /dev/null
${NODE} ${here('../e2e/clients/ws.ts')} > /dev/null
getent hosts hello > /dev/null
getent hosts example.test > /dev/null
getent hosts nosuch.example.test > /dev/null || true
dig +short +tcp @127.0.0.1 example.test > /dev/null
dig +short @127.0.0.1 "r$i-$(date +%N).example.test" > /dev/null
`;

const script = `
set -eu
T=$(mktemp -d)
trap 'kill $P 2>/dev/null; rm -rf "$T"' EXIT
cat > $T/prometheus.yml <<'YAML'
global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s }
scrape_configs:
  - job_name: runsd
    static_configs: [{ targets: ['127.0.0.1:9090'] }]
YAML
${PROMETHEUS} --config.file=$T/prometheus.yml --storage.tsdb.path=$T/data \\
  --web.listen-address=127.0.0.1:9091 --log.level=warn > $T/prometheus.log 2>&1 &
P=$!
for i in $(seq 1 50); do curl -sf -o /dev/null http://127.0.0.1:9091/-/ready && break; sleep 0.2; done
sleep 1.5
for i in 1 2 3 4; do
${round}
sleep 1.2
done
sleep 1.5
${NODE} ${here('./panel-queries.ts')} http://127.0.0.1:9091 http://127.0.0.1:9090/metrics \\
  ${here('../../grafana/runsd.json')} runsd 127.0.0.1:9090 15s || { cat $T/prometheus.log >&2; exit 1; }
`;

interface Result {
  panels: {
    panel: string;
    refId: string;
    expr: string;
    status: string;
    error: string | null;
    series: { metric: Record<string, string>; value: string }[];
  }[];
  variables: Record<string, string[]>;
  families: [string, string][];
  samples: string[];
  scrape: string;
}

test('every panel expression returns a series from a real Prometheus scraping runsd', { skip }, async (t) => {
  const r = await runInTestbed({
    // A -route, so its per-route series exist; on the test bed the service list is checked too.
    runsdArgs: [
      '-metrics_addr=127.0.0.1:9090',
      '-route=billing=https://hello-123456789012.us-central1.run.app',
    ],
    command: ['sh', '-c', script],
    timeoutMs: 90_000,
  });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Result;
  assert.ok(out.panels.length >= 30, `${out.panels.length} expressions`);
  const failed = out.panels
    .filter((p) => p.status !== 'success' || p.series.length === 0)
    .map((p) => `${p.panel} ${p.refId}: ${p.error ?? 'no series'} — ${p.expr}`);
  assert.deepEqual(failed, [], 'panel expressions that fail or return nothing');
  // The variables list this instance, so the operator's pick is what was substituted above.
  assert.deepEqual(out.variables, { job: ['runsd'], instance: ['127.0.0.1:9090'] });

  // The panels show what happened, not only that something exists.
  const value = (panel: string, ref = 'A', where: Record<string, string> = {}): number[] =>
    (out.panels.find((p) => p.panel === panel && p.refId === ref)?.series ?? [])
      .filter((s) => Object.entries(where).every(([k, v]) => s.metric[k] === v))
      .map((s) => Number(s.value));
  assert.ok(value('Requests/s')[0]! > 0, 'requests/s');
  const errorRatio = value('Error %')[0]!;
  assert.ok(errorRatio > 0 && errorRatio < 1, `error ratio ${errorRatio}: one 5xx of several calls`);
  assert.ok(value('4xx by exact status', 'A', { code: '404', service: 'hello' })[0]! > 0);
  assert.ok(value('runsd errors by code', 'A', { code: 'RUNSD_BAD_HOST' })[0]! > 0);
  assert.deepEqual(value('Rooms up', 'A').sort(), [1, 1, 1], 'dns, proxy and token up');
  assert.ok(value('Token expiry')[0]! > 3000, 'a fresh token (1 h lifetime)');
  for (const outcome of ['local', 'forwarded', 'nxdomain'])
    assert.ok(value('Queries by where the answer came from', 'A', { outcome })[0]! > 0, outcome);
  assert.ok(value('Responses by RCODE and transport', 'A', { proto: 'tcp', rcode: 'NOERROR' })[0]! > 0);

  // After all that traffic the exposition is still clean (promtool prints each problem, exits 1).
  if (PROMTOOL)
    assert.equal(
      execFileSync(PROMTOOL, ['check', 'metrics'], { input: out.scrape, encoding: 'utf8' }).trim(),
      '',
    );

  // For the record (the closing note): the families and one scrape's size.
  const runsd = out.families.filter(([n]) => n!.startsWith('runsd_') && !/^runsd_(nodejs|process)_/.test(n!));
  t.diagnostic(`${runsd.length} runsd families, ${out.samples.length} samples in one scrape`);
  for (const [name, type] of runsd) {
    const series = type === 'histogram' ? `${name}_count` : name;
    const lines = out.samples.filter((l) => l.startsWith(`${series}{`) || l.startsWith(`${series} `));
    t.diagnostic(
      `${type} ${name}: ${lines.length} series, ${lines.map((l) => l.split(' ').at(-1)).join(' ')}`,
    );
  }
});
