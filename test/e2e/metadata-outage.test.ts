// End to end: the metadata server is down when runsd starts. The command still starts at once,
// http://hello gets a clear 503 (not a hang, not a DNS failure), and when the metadata server comes
// back runsd learns the region, adds it to resolv.conf's search list, and requests succeed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInTestbed, testbedAvailable } from '../helpers/testbed.ts';

const skip = !testbedAvailable() && 'needs root and unshare';

const script = `
echo "SEARCH1 $(grep ^search /etc/resolv.conf)"
echo "FIRST $(curl -sS -m 10 -o /dev/null -D - http://hello/ | grep -i -E '^(HTTP|x-runsd-error)' | tr -d '\\r' | tr '\\n' ' ')"
curl -sS -X POST -d '{"metadata":{"outage":false}}' "$EMULATOR_CONTROL/knobs" > /dev/null
for i in $(seq 1 200); do grep -q 'us-central1.run.internal' /etc/resolv.conf && break; sleep 0.1; done
echo "SEARCH2 $(grep ^search /etc/resolv.conf)"
for i in $(seq 1 50); do code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' http://hello/); [ "$code" = 200 ] && break; sleep 0.1; done
echo "SECOND $code"
`;

test('metadata outage at start-up: the command starts, requests get a clear 503, then recover', {
  skip,
}, async () => {
  const r = await runInTestbed({
    runsdArgs: [],
    command: ['sh', '-c', script],
    knobs: { metadata: { outage: true } },
    timeoutMs: 60_000,
  });
  const out = Object.fromEntries(
    r.stdout
      .split('\n')
      .map((l) => /^([A-Z0-9]+) ?(.*)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(out['SEARCH1'], 'search run.internal');
  assert.match(out['FIRST'] ?? '', /^HTTP\/1\.1 503 .*x-runsd-error: RUNSD_FACT_MISSING/i);
  assert.match(out['SEARCH2'] ?? '', /^search us-central1\.run\.internal run\.internal/);
  assert.equal(out['SECOND'], '200');
  assert.match(r.stderr, /metadata server unavailable at start-up; starting the command anyway/);
});
