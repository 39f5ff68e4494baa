import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULTS } from '../../src/emulator/index.ts';
import { BED, runInTestbed, testbedAvailable } from '../helpers/testbed.ts';

const skip = !testbedAvailable() && 'needs root and unshare';
const HELLO = `hello-${DEFAULTS.projectNumber}.${DEFAULTS.region}.run.app`;

test('test bed: a client in the namespace resolves run.app via the emulator DNS and calls the front end', {
  skip,
}, async () => {
  const hostResolv = readFileSync('/etc/resolv.conf', 'utf8');
  const script = [
    'set -e',
    `getent ahosts ${HELLO} | head -1`,
    `TOKEN=$(curl -sS -H 'Metadata-Flavor: Google' "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/identity?audience=https://${HELLO}")`,
    `curl -sS --cacert "$EMULATOR_CA" -H "Authorization: Bearer $TOKEN" https://${HELLO}/from-bed`,
    'ip -o addr | awk \'{print "IF", $2, $4}\'',
    'cat /etc/resolv.conf',
  ].join('\n');
  const r = await runInTestbed({ runsdArgs: null, command: ['sh', '-c', script] });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${BED.frontend.replace(/\./g, '\\.')}\\s+STREAM`));
  const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'), r.stdout.lastIndexOf('}') + 1));
  assert.equal(json.service, 'hello');
  assert.equal(json.path, '/from-bed');
  assert.match(r.stdout, /^IF lo 127\.0\.0\.1\/8$/m);
  assert.doesNotMatch(r.stdout, /^IF (?!lo )/m, 'only lo inside the namespace');
  assert.match(r.stdout, new RegExp(`nameserver ${BED.dns.replace(/\./g, '\\.')}`));
  assert.ok(r.report.dnsQueries.some((q) => q.name === HELLO && q.type === 'A'));
  assert.ok(r.report.dnsQueries.some((q) => q.name === 'metadata.google.internal'));
  assert.deepEqual(r.report.identityCalls, { [`https://${HELLO}`]: 1 });
  assert.equal(r.report.frontendRequests.length, 1);
  assert.equal(r.report.frontendRequests[0]?.authVia, 'authorization');
  assert.equal(readFileSync('/etc/resolv.conf', 'utf8'), hostResolv, "the host's resolv.conf is untouched");
});

test('test bed: exit status, env overrides, knobs, signals', { skip }, async () => {
  const r = await runInTestbed({
    runsdArgs: null,
    command: [
      'sh',
      '-c',
      'test -n "$K_SERVICE" || K_SERVICE=unset; echo "K_SERVICE=$K_SERVICE X=$X $(id -u)"; exit 7',
    ],
    env: { K_SERVICE: null, X: 'y' },
    asUser: { uid: 65534, gid: 65534 },
  });
  assert.equal(r.code, 7);
  assert.equal(r.stdout, 'K_SERVICE=unset X=y 65534\n');

  const k = await runInTestbed({
    runsdArgs: null,
    command: [
      'sh',
      '-c',
      `curl -s -o /dev/null -w '%{http_code}' -H 'Metadata-Flavor: Google' http://$GCE_METADATA_HOST/computeMetadata/v1/project/project-id`,
    ],
    knobs: { metadata: { errorRate: 1 } },
  });
  assert.equal(k.stdout, '500');

  // knobs turned mid-run through the control plane
  const md = `curl -s -o /dev/null -w '%{http_code} ' -H 'Metadata-Flavor: Google' http://$GCE_METADATA_HOST/computeMetadata/v1/project/project-id`;
  const c = await runInTestbed({
    runsdArgs: null,
    command: [
      'sh',
      '-c',
      `${md}; curl -s -o /dev/null -X POST -d '{"metadata":{"outage":true}}' $EMULATOR_CONTROL/knobs; ${md}`,
    ],
  });
  assert.equal(c.stdout, '200 000 ');
  assert.equal(c.report.metadata.rejected.outage > 0, true);

  const s = await runInTestbed({
    runsdArgs: null,
    command: ['sh', '-c', 'echo ready; sleep 30'],
    signals: [{ signal: 'SIGTERM', whenOutput: 'ready' }],
  });
  assert.equal(s.signal, 'SIGTERM');
  assert.equal(s.code, 143);
  assert.equal(s.timedOut, false);
});

test('test bed runs the real bin/runsd: the child sees runsd resolv.conf, ours is restored after', {
  skip,
}, async () => {
  const r = await runInTestbed({
    runsdArgs: [],
    command: ['sh', '-c', 'grep -q "^nameserver 127.0.0.1" /etc/resolv.conf && echo rewritten; exit 3'],
  });
  assert.equal(r.stdout, 'rewritten\n', r.stderr);
  assert.equal(r.code, 3);
  assert.equal(r.resolvConfAfter, `nameserver ${BED.dns}\n`);
});
