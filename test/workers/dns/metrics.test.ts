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
