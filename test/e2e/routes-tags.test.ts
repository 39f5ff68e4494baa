// End to end (issue 16): the real bin/runsd in the emulator's namespace, in DNS mode as root and in
// env mode as nobody. Two -route entries — one to another service's URL (default audience: its
// origin), one behind a custom domain with a path prefix and a custom audience — and tagged
// revisions (TAG---hello) each reach the emulator's front end with the token it accepts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULTS } from '../../src/emulator/index.ts';
import { runInTestbed, type TestbedResult, testbedAvailable } from '../helpers/testbed.ts';
import { BED } from '../helpers/testbed-spec.ts';

const skip = !testbedAvailable() && 'needs root and unshare';
const N = DEFAULTS.projectNumber;
const WORLD_EU = `https://world-${N}.europe-west1.run.app`;
const HELLO = `https://hello-${N}.us-central1.run.app`;
const HELLO_EU = `https://hello-${N}.europe-west1.run.app`;

// One line per call: TAG status service region tag path aud (or the x-runsd-error code).
const SHOW = `import json,sys
t=sys.argv[1]; raw=sys.stdin.read()
try:
  d=json.loads(raw); print(t, d["service"], d["region"], d.get("tag","-"), d["path"], (d["auth"] or {}).get("aud"))
except Exception: print(t, "not-json", raw.strip().splitlines()[0] if raw.strip() else "")`;
const call = (tag: string, url: string) =>
  `curl -sS -o /dev/stdout -w '' '${url}' | python3 -c "$SHOW" ${tag}`;
const script = [
  `SHOW='${SHOW.replace(/'/g, `'"'"'`)}'`,
  call('BILLING', 'http://billing/invoices?x=1'),
  call('PAY', 'http://pay.acme/charge'),
  call('GREEN', 'http://green---hello/t'),
  call('GREENEU', 'http://green---hello.europe-west1/t'),
  call('PLAIN', 'http://hello/p'),
  `echo "BLUE $(curl -sS -o /dev/null -w '%{http_code}' http://blue---hello/)"`,
  // a -route to an IP literal: TLS without SNI, the certificate checked against the IP (the front
  // end's own 404 for a host it does not know, not a 502)
  `echo "IP $(curl -sS -o /dev/null -D - http://ip/ | tr -d '\r' | grep -iE '^HTTP|x-runsd-error' | tr '\n' ' ')"`,
  `echo "LONG $(curl -sS -o /dev/null -D - http://${'t'.repeat(45)}---hello/ | grep -i x-runsd-error | tr -d '\\r')"`,
].join('\n');

function lines(r: TestbedResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of r.stdout.split('\n')) {
    const m = /^([A-Z]+) (.*)$/.exec(l);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function check(r: TestbedResult, mode: string): void {
  assert.equal(r.code, 0, `${mode}: ${r.stderr}`);
  const t = lines(r);
  assert.equal(t['BILLING'], `world europe-west1 - /invoices ${WORLD_EU}`, mode);
  assert.equal(t['PAY'], 'hello us-central1 - /v1/charge hello-custom-audience', mode);
  // A tag URL is called with a token for its service's URL (docs/proxy.md, "Tagged revisions").
  assert.equal(t['GREEN'], `hello us-central1 green /t ${HELLO}`, mode);
  assert.equal(t['GREENEU'], `hello europe-west1 green /t ${HELLO_EU}`, mode);
  assert.equal(t['PLAIN'], `hello us-central1 - /p ${HELLO}`, mode);
  assert.equal(t['BLUE'], '404', `${mode}: an unknown tag is the front end's 404`);
  assert.match(t['LONG'] ?? '', /x-runsd-error: RUNSD_BAD_HOST/i, mode);
  assert.match(t['IP'] ?? '', /^HTTP\/1\.1 404 Not Found $/, `${mode}: ${t['IP']}`);
  // the route to the IP sent no SNI (RFC 6066); every other connection named its host
  assert.ok(
    (r.report.frontend.serverNames['(none)'] ?? 0) >= 1,
    JSON.stringify(r.report.frontend.serverNames),
  );
  assert.equal(r.report.frontend.serverNames[BED.frontend], undefined, `${mode}: the IP was sent as SNI`);
  assert.deepEqual(r.report.frontend.authFailures, {}, mode);
  const hosts = new Set(r.report.frontendRequests.map((q) => q.host.replace(/:443$/, '')));
  for (const h of [
    `world-${N}.europe-west1.run.app`,
    'api.custom.test',
    `green---hello-${N}.us-central1.run.app`,
  ])
    assert.ok(hosts.has(h), `${mode}: the front end saw ${h} (${[...hosts].join(', ')})`);
  // One token per audience: the tag shares its service's.
  assert.equal(r.report.identityCalls['hello-custom-audience'], 1, mode);
  assert.equal(r.report.identityCalls[HELLO], 1, mode);
  assert.equal(r.report.identityCalls[WORLD_EU], 1, mode);
}

const ROUTES = [
  `-route=billing=https://world-${N}.europe-west1.run.app`,
  '-route',
  'pay.acme=https://api.custom.test/v1/,audience=hello-custom-audience',
  `-route=ip=https://${BED.frontend}`,
];

test('DNS mode: two -routes (one with a custom audience) and tagged revisions, each with its token', {
  skip,
}, async () => {
  const r = await runInTestbed({ runsdArgs: ROUTES, command: ['sh', '-c', script], timeoutMs: 30_000 });
  check(r, 'dns');
});

test('env mode as nobody: the same routes from RUNSD_ROUTES, through HTTP_PROXY', { skip }, async () => {
  const r = await runInTestbed({
    runsdArgs: ['-mode=env'],
    env: {
      RUNSD_ROUTES: `billing=https://world-${N}.europe-west1.run.app ; pay.acme=https://api.custom.test/v1,audience=hello-custom-audience ; ip=https://${BED.frontend}`,
    },
    command: ['sh', '-c', script],
    asUser: { uid: 65534, gid: 65534 },
    timeoutMs: 30_000,
  });
  check(r, 'env');
});
