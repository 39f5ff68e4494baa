// End to end, through the real bin/runsd: a metadata server that never answers (issue #12, item 3).
// - Accepts and never answers (the emulator's `blackhole` knob), switched on while runsd runs: a
//   cached token is served at once, a new service gets 503 RUNSD_TOKEN_FETCH within 5 s naming the
//   timeout, and the next request after the knob is off gets a token (no restart).
// - Never accepts: GCE_METADATA_HOST is an address routed into the loopback device of the private
//   namespace, which drops the SYNs (nothing leaves the namespace): the same 503, a connect timeout.
// - Silent at start-up: the command starts at once, a request gets RUNSD_FACT_MISSING at once, the
//   start-up warning names the metadata server's timeout, and the facts arrive once it answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInTestbed, testbedAvailable } from '../helpers/testbed.ts';

const skip = !testbedAvailable() && 'needs root and unshare';
const PROMISE_S = 5;

/** `KEY rest` lines of the command's stdout. */
function lines(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .map((l) => /^([A-Z0-9]+) ?(.*)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

/** A probe's line: this status and x-runsd-error code, in less than `maxS` seconds. */
function answered(line: string | undefined, status: string, code: string | null, maxS: number, all: string) {
  const [got, s, ...hdr] = (line ?? '').split(' ');
  assert.equal(got, status, all);
  if (code) assert.match(hdr.join(' '), new RegExp(`x-runsd-error: ${code}`, 'i'));
  assert.ok(Number(s) < maxS, `${status} after ${s} s`);
}

// "CODE SECONDS ERROR-HEADER" for one request; the body (runsd's message) goes to $T/NAME.
const probe = (name: string, url: string) =>
  `echo "${name} $(curl -sS -m 20 -o $T/${name} -D $T/${name}.h -w '%{http_code} %{time_total}' ${url}) $(grep -i '^x-runsd-error' $T/${name}.h | tr -d '\\r')"; echo "${name}BODY $(head -1 $T/${name})"`;

test('metadata server accepts and never answers: cached token at once, new audience 503 within 5 s, recovery', {
  skip,
}, async () => {
  const script = `T=$(mktemp -d)
${probe('WARM', 'http://hello/')}
curl -sS -X POST -d '{"metadata":{"blackhole":true}}' "$EMULATOR_CONTROL/knobs" > /dev/null
${probe('CACHED', 'http://hello/again')}
${probe('NEW', 'http://world/')}
curl -sS -X POST -d '{"metadata":{"blackhole":false}}' "$EMULATOR_CONTROL/knobs" > /dev/null
${probe('AFTER', 'http://world/')}
`;
  const r = await runInTestbed({ runsdArgs: [], command: ['sh', '-c', script], timeoutMs: 60_000 });
  const out = lines(r.stdout);
  assert.equal(r.code, 0, r.stderr);
  assert.match(out['WARM'] ?? '', /^200 /);
  answered(out['CACHED'], '200', null, 1, r.stdout); // a cached token waits for nothing
  answered(out['NEW'], '503', 'RUNSD_TOKEN_FETCH', PROMISE_S, r.stdout);
  assert.match(
    out['NEWBODY'] ?? '',
    /no ID token for https:\/\/world-\S+: metadata server http:\/\/127\.0\.0\.4 did not answer instance\/service-accounts\/default\/identity within 1200 ms \(3 attempts in [0-9.]+ s\)/,
  );
  assert.match(out['AFTER'] ?? '', /^200 /, r.stdout);
  assert.ok((r.report.metadata as { rejected: { blackhole: number } }).rejected.blackhole >= 3);
});

test('metadata server never accepts (blackholed address): 503 RUNSD_TOKEN_FETCH within 5 s, a connect timeout', {
  skip,
}, async () => {
  const script = `T=$(mktemp -d)
ip route add 192.0.2.0/24 dev lo
${probe('NEW', 'http://hello/')}
`;
  const r = await runInTestbed({
    // Facts from flags: the first metadata call is the request's identity call.
    runsdArgs: ['-gcp_region=us-central1', '-project_number=123456789012'],
    command: ['sh', '-c', script],
    env: { GCE_METADATA_HOST: '192.0.2.4:80' },
    timeoutMs: 60_000,
  });
  const out = lines(r.stdout);
  assert.equal(r.code, 0, r.stderr);
  answered(out['NEW'], '503', 'RUNSD_TOKEN_FETCH', PROMISE_S, r.stdout);
  assert.match(
    out['NEWBODY'] ?? '',
    /metadata server http:\/\/192\.0\.2\.4 did not accept a connection within 1000 ms .*\(3 attempts in [0-9.]+ s\)/,
  );
});

test('metadata server silent at start-up: the command starts, RUNSD_FACT_MISSING at once, facts later', {
  skip,
}, async () => {
  const script = `T=$(mktemp -d)
${probe('FIRST', 'http://hello/')}
curl -sS -X POST -d '{"metadata":{"blackhole":false}}' "$EMULATOR_CONTROL/knobs" > /dev/null
for i in $(seq 1 300); do grep -q 'us-central1.run.internal' /etc/resolv.conf && break; sleep 0.1; done
echo "SEARCH $(grep ^search /etc/resolv.conf)"
for i in $(seq 1 50); do code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' http://hello/); [ "$code" = 200 ] && break; sleep 0.1; done
echo "SECOND $code"
`;
  const r = await runInTestbed({
    runsdArgs: ['-v=2'],
    command: ['sh', '-c', script],
    knobs: { metadata: { blackhole: true } },
    timeoutMs: 60_000,
  });
  const out = lines(r.stdout);
  assert.equal(r.code, 0, r.stderr);
  answered(out['FIRST'], '503', 'RUNSD_FACT_MISSING', 1, r.stdout);
  // The start-up wait ended on the metadata server's own timeout, not on the supervisor's.
  assert.match(
    r.stderr,
    /metadata server unavailable at start-up; starting the command anyway.*did not answer instance\/region within 1200 ms/,
  );
  const started = /command started.*at_ms[=:"\s]+(\d+)/.exec(r.stderr);
  assert.ok(started, r.stderr);
  assert.ok(Number(started[1]) < PROMISE_S * 1000, `command started at ${started[1]} ms`);
  assert.match(out['SEARCH'] ?? '', /^search us-central1\.run\.internal run\.internal/);
  assert.equal(out['SECOND'], '200');
});
