// End to end (issue 16, -check_services): the real bin/runsd in the emulator's namespace lists the
// project's services through the emulated Admin API (run.googleapis.com, answered by the
// emulator's front end). A name that is no service is NXDOMAIN in the resolver and 404
// RUNSD_NO_SERVICE with a suggestion in the proxy, while existing ones answer locally; with the API
// refusing (403) everything behaves as without the check, and runsd says once what to grant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInTestbed, type TestbedResult, testbedAvailable } from '../helpers/testbed.ts';

const skip = !testbedAvailable() && 'needs root and unshare';

const steps: [string, string][] = [
  ['hello', 'getent ahosts hello'],
  ['tagged', 'getent ahosts green---hello'],
  ['typo', 'getent ahosts helo; echo "exit=$?"'],
  ['metadata', 'getent ahosts metadata; echo "exit=$?"'],
  ['dig', 'dig +search helo'],
  ['dig-eu', 'dig +short world.europe-west1.run.internal'],
  ['call', "curl -sS -o /dev/null -w '%{http_code}' http://hello/ok"],
  ['typo-call', "curl -sS -D - -H 'Host: helo' http://127.0.0.1/x"],
  [
    'typo-ws',
    "curl -sS -D - -H 'Host: helo' -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' http://127.0.0.1/ws",
  ],
  [
    'missing-eu',
    "curl -sS -o /dev/null -D - -H 'Host: hello.asia-east1' http://127.0.0.1/x | grep -i '^x-runsd-error'; true",
  ],
];
const command = steps.map(([k, c]) => `echo "@@${k}"; ${c}`).join('; ');

function section(out: string, key: string): string {
  const m = new RegExp(`@@${key}\\n([\\s\\S]*?)(?=@@|$)`).exec(out);
  return m?.[1] ?? '';
}

function checkCommon(r: TestbedResult): void {
  assert.equal(r.code, 0, r.stderr);
  assert.match(section(r.stdout, 'hello'), /^(127\.0\.0\.1|::1)\s+STREAM/m);
  assert.match(section(r.stdout, 'tagged'), /^(127\.0\.0\.1|::1)\s+STREAM/m);
  assert.equal(section(r.stdout, 'call').trim(), '200');
  // existing names are answered by runsd at the first search-list step: none goes upstream
  // (a missing one's absolute name `helo.` does, after runsd's NXDOMAINs, like any unknown name)
  assert.deepEqual(
    r.report.dnsQueries.filter(
      (q) => /^(hello|green---hello)(\.|$)/.test(q.name) || q.name.includes('run.internal'),
    ),
    [],
  );
}

test('-check_services (default): typos and http://metadata fail fast; known names answer locally', {
  skip,
}, async () => {
  const r = await runInTestbed({ runsdArgs: [], command: ['sh', '-c', command], timeoutMs: 30_000 });
  checkCommon(r);
  assert.match(section(r.stdout, 'typo'), /^exit=2$/m, 'getent: no such host');
  assert.doesNotMatch(section(r.stdout, 'typo'), /127\.0\.0\.1/);
  assert.match(section(r.stdout, 'metadata'), /^exit=2$/m);
  assert.match(section(r.stdout, 'dig'), /status: NXDOMAIN/);
  assert.equal(section(r.stdout, 'dig-eu').trim(), '127.0.0.1', 'world exists in europe-west1');
  const typo = section(r.stdout, 'typo-call');
  assert.match(typo, /^HTTP\/1\.1 404/m);
  assert.match(typo, /^x-runsd-error: RUNSD_NO_SERVICE\r?$/im);
  assert.match(typo, /no Cloud Run service "helo" in us-central1: did you mean hello\?/);
  // A WebSocket upgrade is checked too: the same 404, not tunnelled to the front end.
  const ws = section(r.stdout, 'typo-ws');
  assert.match(ws, /^HTTP\/1\.1 404/m, ws);
  assert.match(ws, /^x-runsd-error: RUNSD_NO_SERVICE\r?$/im);
  assert.match(ws, /no Cloud Run service "helo" in us-central1: did you mean hello\?/);
  assert.match(
    section(r.stdout, 'missing-eu'),
    /RUNSD_NO_SERVICE/i,
    'no service in a region the API lists empty',
  );
  // Listed through the Admin API (pages of 2: hello, public, world → 2 calls), not the front end's 404.
  assert.ok((r.report.frontend.adminListCalls['us-central1'] ?? 0) >= 2, JSON.stringify(r.report.frontend));
  assert.ok(
    !r.report.frontendRequests.some((q) => q.host.startsWith('helo-')),
    'the typo never went upstream',
  );
});

test('the Admin API refuses (403): every name is a service, as without the check; said once', {
  skip,
}, async () => {
  const r = await runInTestbed({
    runsdArgs: [],
    command: ['sh', '-c', command],
    knobs: { frontend: { adminApiForbidden: true } },
    timeoutMs: 30_000,
  });
  checkCommon(r);
  assert.match(section(r.stdout, 'typo'), /^(127\.0\.0\.1|::1)\s+STREAM/m, 'today: every name resolves');
  const typo = section(r.stdout, 'typo-call');
  assert.match(typo, /^HTTP\/1\.1 404/m, "the front end's own 404");
  assert.doesNotMatch(typo, /x-runsd-error/i);
  const ws = section(r.stdout, 'typo-ws');
  assert.match(ws, /^HTTP\/1\.1 404/m, `the upgrade is tunnelled: the front end's 404\n${ws}`);
  assert.doesNotMatch(ws, /x-runsd-error/i);
  assert.ok(
    r.report.frontendRequests.some((q) => q.host.startsWith('helo-')),
    'the typo went upstream as today',
  );
  const told = r.stderr.split('\n').filter((l) => l.includes('roles/run.viewer'));
  assert.equal(told.length, 1, r.stderr);
  assert.match(told[0]!, /HTTP 403/);
});

// -dns_threads 2: the kernel spreads queries over both listener threads by source port (dig picks
// a new one each time), so of 40 queries both threads answer some (all 40 on one: p = 2^-39); a
// thread that did not check would answer about half of the typos with 127.0.0.1.
test('-dns_threads 2: every DNS thread answers NXDOMAIN for a name that is no service', {
  skip,
}, async () => {
  const each = (name: string) =>
    `for i in $(seq 40); do dig +tries=1 +time=3 ${name} | grep -o 'status: [A-Z]*'; done | sort | uniq -c`;
  const r = await runInTestbed({
    runsdArgs: ['-dns_threads', '2'],
    command: [
      'sh',
      '-c',
      `echo "@@typo"; ${each('helo.us-central1.run.internal')}; echo "@@known"; ${each('hello.us-central1.run.internal')}`,
    ],
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(section(r.stdout, 'typo').trim(), '40 status: NXDOMAIN');
  assert.equal(section(r.stdout, 'known').trim(), '40 status: NOERROR');
});
