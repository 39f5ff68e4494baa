// The dns room's counters whose label values are known at start-up exist at 0 from then on, so a
// dashboard's rate() and an alert's increase() see the first error (workers/dns/metrics.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry } from '../../../src/room-metrics.ts';
import { createDnsMetrics } from '../../../workers/dns/metrics.ts';

test('upstream queries and errors per nameserver, and TCP closes per reason, start at 0', async () => {
  const reg = new MetricsRegistry();
  const m = createDnsMetrics(reg, () => 0, ['10.0.0.2:53', '[fd00::1]:53']);
  m.upstreamError('10.0.0.2:53', 'timeout');
  const json = await reg.getMetricsAsJSON();
  const values = (name: string) => json.find((x) => x.name === name)!.values;
  const errors = values('runsd_dns_upstream_errors_total');
  assert.equal(errors.length, 2 * 5);
  assert.equal(
    errors.find((v) => v.labels['upstream'] === '10.0.0.2:53' && v.labels['reason'] === 'timeout')?.value,
    1,
  );
  assert.equal(errors.filter((v) => v.value === 0).length, 9);
  assert.deepEqual(
    values('runsd_dns_upstream_queries_total').map(
      (v) => `${v.labels['upstream']} ${v.labels['transport']} ${v.value}`,
    ),
    ['10.0.0.2:53 udp 0', '10.0.0.2:53 tcp 0', '[fd00::1]:53 udp 0', '[fd00::1]:53 tcp 0'],
  );
  assert.deepEqual(
    values('runsd_dns_tcp_connections_closed_total').map((v) => [v.labels['reason'], v.value]),
    [
      ['bad_length', 0],
      ['idle', 0],
      ['too_many', 0],
    ],
  );
});

test('replies are counted by transport and RCODE read from their bytes; every pair exists from the start', async () => {
  const reg = new MetricsRegistry();
  const m = createDnsMetrics(reg, () => 0);
  const reply = (rcode: number) => Uint8Array.from([0x12, 0x34, 0x81, 0x80 | rcode, 0, 1, 0, 0, 0, 0, 0, 0]);
  m.response('udp', reply(0));
  m.response('udp', reply(3));
  m.response('udp', reply(3));
  m.response('tcp', reply(2));
  m.response('tcp', reply(9)); // not one of the six named codes
  const values = (await reg.getMetricsAsJSON()).find((x) => x.name === 'runsd_dns_responses_total')!.values;
  const v = (proto: string, rcode: string) =>
    values.find((x) => x.labels['proto'] === proto && x.labels['rcode'] === rcode)?.value;
  assert.equal(values.length, 2 * 7);
  assert.equal(v('udp', 'NOERROR'), 1);
  assert.equal(v('udp', 'NXDOMAIN'), 2);
  assert.equal(v('tcp', 'SERVFAIL'), 1);
  assert.equal(v('tcp', 'OTHER'), 1);
  assert.equal(v('tcp', 'REFUSED'), 0);
});

test('forwarder latency is observed per nameserver and the reply’s RCODE', async () => {
  const reg = new MetricsRegistry();
  const m = createDnsMetrics(reg, () => 0, ['10.0.0.2:53']);
  const reply = (rcode: number) => Uint8Array.from([0x12, 0x34, 0x81, 0x80 | rcode, 0, 1, 0, 0, 0, 0, 0, 0]);
  const start = process.hrtime.bigint();
  m.upstreamReply('10.0.0.2:53', reply(0), start);
  m.upstreamReply('10.0.0.2:53', reply(0), start);
  m.upstreamReply('10.0.0.2:53', reply(3), start);
  const values = (await reg.getMetricsAsJSON()).find(
    (x) => x.name === 'runsd_dns_upstream_duration_seconds',
  )!.values;
  const count = (rcode: string) =>
    values.find(
      (x) =>
        x.metricName === 'runsd_dns_upstream_duration_seconds_count' &&
        x.labels['upstream'] === '10.0.0.2:53' &&
        x.labels['rcode'] === rcode,
    )?.value;
  assert.equal(count('NOERROR'), 2);
  assert.equal(count('NXDOMAIN'), 1);
  assert.equal(count('SERVFAIL'), undefined, 'no series for a code never seen');
});
