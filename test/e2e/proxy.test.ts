// End to end: the real bin/runsd as root in a private namespace with the emulator (DNS mode), and as
// a non-root user in env mode; real clients call http://hello and friends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../../src/emulator/index.ts';
import { runInTestbed, testbedAvailable } from '../helpers/testbed.ts';

const skip = !testbedAvailable() && 'needs root and unshare';
const NODE = process.execPath;
const client = (name: string) => fileURLToPath(new URL(`./clients/${name}.ts`, import.meta.url));
const AUD = `https://hello-${DEFAULTS.projectNumber}.${DEFAULTS.region}.run.app`;

// Everything the app might do, as one shell script; each line prints a tagged result.
const script = (env: boolean) => `
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
curl -sS -v -H 'Authorization: Basic YTpi' http://hello/one http://hello/two 2>$T/v | tr -d '\\n' | sed 's/}{/}\\n{/' > $T/two.json
echo "KEEPALIVE $(grep -c 'Re-using existing connection' $T/v)"
echo "BASIC $(head -1 $T/two.json | grep -o '"authorization": *"Basic YTpi"' | wc -l) VIA $(head -1 $T/two.json | grep -o '"via": *"x-serverless-authorization"' | wc -l)"
echo "H2C $(curl -sS ${env ? '-p ' : ''}--http2-prior-knowledge -o /dev/null -w '%{http_code} %{http_version}' http://hello.us-central1/h2c)"
echo "UPGRADE $(curl -sS --http2 -o /dev/null -w '%{http_code} %{http_version}' http://hello.us-central1.run.internal/up)"
echo "PY $(python3 -c "import urllib.request,json; r=urllib.request.urlopen('http://hello/py'); print(r.status, json.loads(r.read())['auth']['via'])")"
head -c 16777216 /dev/urandom > $T/up.bin
echo "UPSHA $(sha256sum < $T/up.bin | cut -c1-64) $(curl -sS --data-binary @$T/up.bin -H 'content-type: application/octet-stream' http://hello/upload | grep -o '"bodySha256": *"[0-9a-f]*"' | grep -o '[0-9a-f]\\{64\\}')"
echo "DOWN $(curl -sS http://hello/bytes/16777216 | wc -c) $(curl -sS ${env ? '-p ' : ''}--http2-prior-knowledge http://hello/bytes/16777216 | wc -c)"
echo "SSE $(curl -sS -N 'http://hello/sse?n=3&interval=50' | grep -c '^data:')"
${env ? 'echo "WS skipped"' : `echo "WS $(${NODE} ${client('ws')})"`}
echo "GRPC $(${NODE} ${client('grpc')})"
echo "BAD $(curl -sS -o /dev/null -D - ${env ? '-x "" --noproxy "*" http://127.0.0.1:$RUNSD_PORT/' : 'http://127.0.0.1/'} -H 'Host: bad_name' | grep -i x-runsd-error | tr -d '\\r')"
for i in $(seq 1 200); do printf 'url = "http://hello/n%s"\\noutput = "/dev/null"\\n' $i; done > $T/urls
echo "MANY $(curl -sS -K $T/urls -w '%{http_code}\\n' | sort | uniq -c | tr -s ' ')"
`;

function tagged(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([A-Z0-9]+) ?(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function check(r: Awaited<ReturnType<typeof runInTestbed>>, mode: string) {
  assert.equal(r.code, 0, `${mode}: ${r.stderr}`);
  const t = tagged(r.stdout);
  assert.equal(t['KEEPALIVE'], '1', `${mode} keep-alive`);
  assert.equal(t['BASIC'], '1 VIA 1', `${mode}: Authorization: Basic intact and the request authenticated`);
  assert.equal(t['H2C'], '200 2');
  assert.equal(t['UPGRADE'], '200 1.1');
  assert.equal(t['PY'], '200 x-serverless-authorization');
  const [sha, got] = t['UPSHA']!.split(' ');
  assert.equal(got, sha, `${mode}: 16 MiB upload sha256`);
  assert.equal(t['DOWN'], '16777216 16777216');
  assert.equal(t['SSE'], '3');
  // ws dials directly (it ignores HTTP_PROXY), so in env mode it has no way to reach "hello".
  assert.equal(t['WS'], mode === 'env' ? 'skipped' : 'hello: ping');
  const g = JSON.parse(t['GRPC']!);
  assert.deepEqual(g.unary, { code: 0, message: 'hi' });
  assert.deepEqual(g.notFound, { code: 5, details: 'gone' });
  assert.deepEqual(g.aborted, { code: 10, details: 'stop' });
  assert.deepEqual(g.stream, { got: [0, 1, 2, 3, 4], code: 0 });
  assert.equal(g.bidi.got.length, 3);
  assert.match(t['BAD']!, /x-runsd-error: RUNSD_BAD_HOST/i);
  assert.equal(t['MANY']?.trim(), '200 200');
  // One identity call per audience, whatever the number of requests.
  assert.equal(r.report.identityCalls[AUD], 1);
  assert.deepEqual(r.report.frontend.authFailures, {});
}

test('DNS mode as root: curl, urllib, 16 MiB, SSE, WebSocket, gRPC through http://hello', {
  skip,
}, async () => {
  const r = await runInTestbed({ runsdArgs: [], command: ['sh', '-c', script(false)], timeoutMs: 60_000 });
  check(r, 'dns');
});

test('env mode as a non-root user: the same through HTTP_PROXY', { skip }, async () => {
  const r = await runInTestbed({
    runsdArgs: ['-mode=env'],
    // Clients that honour HTTP_PROXY: curl (h2c via CONNECT, -p), urllib, grpc-js (CONNECT).
    command: ['sh', '-c', `RUNSD_PORT=\${HTTP_PROXY##*:}\n${script(true)}`],
    asUser: { uid: 65534, gid: 65534 },
    timeoutMs: 60_000,
  });
  check(r, 'env');
});

test('DNS mode: GOAWAY from the front end every 50 streams, 1,000 h2c + 300 HTTP/1.1 requests, zero failures', {
  skip,
}, async () => {
  const script = [
    'T=$(mktemp -d)',
    `trap 'rm -rf "$T"' EXIT`,
    'h2load -n 1000 -c 4 -m 10 http://hello/status/200 | grep -E "^(requests|status codes):"',
    `for i in $(seq 1 300); do printf 'url = "http://hello/n%s"\\noutput = "/dev/null"\\n' $i; done > $T/urls`,
    "echo \"H1 $(curl -sS -K $T/urls -w '%{http_code}\\n' | sort | uniq -c | tr -s ' ')\"",
  ].join('\n');
  const r = await runInTestbed({
    runsdArgs: [],
    command: ['sh', '-c', script],
    knobs: { frontend: { goawayAfterStreams: 50 } },
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed/);
  assert.match(r.stdout, /status codes: 1000 2xx, 0 3xx, 0 4xx, 0 5xx/);
  assert.match(r.stdout, /^H1 +300 200$/m);
  assert.ok(r.report.frontend.goaways >= 20, `goaways: ${r.report.frontend.goaways}`);
  assert.equal(r.report.identityCalls[AUD], 1);
});

test('-user: the child runs as nobody and still reaches http://hello with a token', { skip }, async () => {
  const r = await runInTestbed({
    runsdArgs: ['-user=65534:65534'],
    command: [
      'sh',
      '-c',
      'echo "UID $(id -u)"; curl -sS http://hello/as-user | grep -o \'"via": *"[a-z-]*"\'',
    ],
    timeoutMs: 30_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^UID 65534$/m);
  assert.match(r.stdout, /"via": *"x-serverless-authorization"/);
});
