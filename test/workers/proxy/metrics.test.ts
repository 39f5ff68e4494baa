// The proxy's request metrics (workers/proxy/metrics.ts): the exact status kept for 4xx, the
// service label bounded, and the duration histogram labelled like the counter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry } from '../../../src/room-metrics.ts';
import { MAX_SERVICES, proxyMetrics } from '../../../workers/proxy/metrics.ts';

test('requests: 4xx keep their exact status, other classes do not; durations by service, protocol, class', async () => {
  const reg = new MetricsRegistry();
  const m = proxyMetrics(reg);
  m.countRequest('hello', 'us-central1', 'h2c', 200, 0.004);
  m.countRequest('hello', 'us-central1', 'h2c', 204, 0.002);
  m.countRequest('hello', 'us-central1', 'h2c', 403, 0.003);
  m.countRequest('hello', 'us-central1', 'h2c', 404, 0.003);
  m.countRequest('hello', 'us-central1', 'h2c', 404, 0.003);
  m.countRequest('hello', 'europe-west1', 'h2c', 503, 0.2);
  const json = await reg.getMetricsAsJSON();
  const requests = json.find((x) => x.name === 'runsd_proxy_requests_total')!.values;
  const v = (labels: Record<string, string>) =>
    requests.find((r) => JSON.stringify(r.labels) === JSON.stringify(labels))?.value;
  assert.equal(v({ service: 'hello', region: 'us-central1', protocol: 'h2c', code_class: '2xx' }), 2);
  assert.equal(
    v({ service: 'hello', region: 'us-central1', protocol: 'h2c', code_class: '4xx', code: '403' }),
    1,
  );
  assert.equal(
    v({ service: 'hello', region: 'us-central1', protocol: 'h2c', code_class: '4xx', code: '404' }),
    2,
  );
  assert.equal(v({ service: 'hello', region: 'europe-west1', protocol: 'h2c', code_class: '5xx' }), 1);
  assert.equal(requests.length, 4);
  const counts = json
    .find((x) => x.name === 'runsd_proxy_request_duration_seconds')!
    .values.filter((x) => x.metricName === 'runsd_proxy_request_duration_seconds_count');
  assert.deepEqual(counts.map((c) => [c.labels['code_class'], c.value]).sort(), [
    ['2xx', 2],
    ['4xx', 3],
    ['5xx', 1],
  ]);
});

test(`the service label holds at most ${MAX_SERVICES} names; later ones count as -other`, async () => {
  const reg = new MetricsRegistry();
  const m = proxyMetrics(reg);
  for (let i = 0; i < MAX_SERVICES + 20; i++) m.countRequest(`svc${i}`, 'us-central1', 'http1', 200);
  m.countRequest('svc0', 'us-central1', 'http1', 200);
  const json = await reg.getMetricsAsJSON();
  const requests = json.find((x) => x.name === 'runsd_proxy_requests_total')!.values;
  const services = new Set(requests.map((r) => r.labels['service']));
  assert.equal(services.size, MAX_SERVICES + 1);
  assert.equal(requests.find((r) => r.labels['service'] === '-other')?.value, 20);
  assert.equal(
    requests.find((r) => r.labels['service'] === 'svc0')?.value,
    2,
    'a name seen before keeps its own series',
  );
});
