// src/room-metrics.ts against prom-client as the oracle: the same operations on both give the same
// Prometheus text once merged by prom-client's AggregatorRegistry (which is what /metrics does), and
// mergeMetrics sums threads as the aggregator does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as prom from 'prom-client';
import type { MetricsJson } from '../src/protocol.ts';
import { Counter, Gauge, Histogram, MetricsRegistry, mergeMetrics } from '../src/room-metrics.ts';

const render = (parts: unknown[]) => prom.AggregatorRegistry.aggregate(parts as never).metrics();

/** Runs the same script against prom-client's classes and ours; returns both registries. */
function both(
  script: (
    k: { Counter: typeof Counter; Gauge: typeof Gauge; Histogram: typeof Histogram },
    r: never,
  ) => void,
) {
  const theirs = new prom.Registry();
  const ours = new MetricsRegistry();
  script({ Counter: prom.Counter, Gauge: prom.Gauge, Histogram: prom.Histogram } as never, theirs as never);
  script({ Counter, Gauge, Histogram }, ours as never);
  return { theirs, ours };
}

const SCRIPT = (
  k: { Counter: typeof Counter; Gauge: typeof Gauge; Histogram: typeof Histogram },
  r: never,
) => {
  const c = new k.Counter({
    name: 't_requests_total',
    help: 'h',
    labelNames: ['service', 'code'],
    registers: [r],
  });
  c.inc({ service: 'hello', code: '2xx' });
  c.inc({ service: 'hello', code: '2xx' }, 4);
  c.inc({ service: 'other', code: '5xx' });
  c.labels('third', '4xx').inc(2);
  const plain = new k.Counter({ name: 't_plain_total', help: 'h', registers: [r] });
  plain.inc();
  plain.inc(2.5);
  const g = new k.Gauge({ name: 't_active', help: 'h', registers: [r] });
  g.inc(5);
  g.dec();
  g.dec(2);
  const lg = new k.Gauge({ name: 't_up', help: 'h', labelNames: ['room'], registers: [r] });
  lg.set({ room: 'dns' }, 1);
  lg.set({ room: 'proxy' }, 0);
  let seen = 0;
  new k.Gauge({
    name: 't_collected',
    help: 'h',
    registers: [r],
    collect() {
      this.set(++seen * 10);
    },
  });
  const h = new k.Histogram({ name: 't_seconds', help: 'h', buckets: [0.001, 0.1, 0.5], registers: [r] });
  for (const v of [0.0005, 0.001, 0.05, 0.2, 3]) h.observe(v);
  const lh = new k.Histogram({
    name: 't_by_outcome_seconds',
    help: 'h',
    labelNames: ['outcome'],
    buckets: [0.01, 1],
    registers: [r],
  });
  lh.labels('local').observe(0.005);
  lh.observe({ outcome: 'forwarded' }, 2);
  lh.labels('local').observe(0.5);
};

test('the same operations give the same Prometheus text as prom-client', async () => {
  const { theirs, ours } = both(SCRIPT);
  const want = await render([await theirs.getMetricsAsJSON()]);
  const got = await render([await ours.getMetricsAsJSON()]);
  assert.equal(got, want);
  assert.match(got, /t_seconds_bucket\{le="\+Inf"\} 5/);
  assert.match(got, /t_requests_total\{service="hello",code="2xx"\} 5/);
});

test('metrics never touched: without labels they are 0 (as prom-client), with labels absent', async () => {
  const { theirs, ours } = both((k, r) => {
    new k.Counter({ name: 'u_total', help: 'h', registers: [r] });
    new k.Gauge({ name: 'u_gauge', help: 'h', registers: [r] });
    new k.Histogram({ name: 'u_seconds', help: 'h', buckets: [1], registers: [r] });
    new k.Counter({ name: 'l_total', help: 'h', labelNames: ['x'], registers: [r] });
  });
  const want = await render([await theirs.getMetricsAsJSON()]);
  const got = await render([await ours.getMetricsAsJSON()]);
  assert.equal(got, want);
  assert.match(got, /^u_total 0$/m);
  assert.match(got, /^u_seconds_count 0$/m);
  assert.doesNotMatch(got, /^l_total/m);
});

test('collect() runs at every export; reset() inside it replaces the values', async () => {
  const r = new MetricsRegistry();
  let n = 0;
  new Counter({
    name: 'c_total',
    help: 'h',
    labelNames: ['k'],
    registers: [r],
    collect() {
      this.reset();
      this.inc({ k: `v${++n}` });
    },
  });
  const first = await r.getMetricsAsJSON();
  const second = await r.getMetricsAsJSON();
  assert.deepEqual(first[0]!.values, [{ value: 1, labels: { k: 'v1' } }]);
  assert.deepEqual(second[0]!.values, [{ value: 1, labels: { k: 'v2' } }]);
});

test('startTimer observes the elapsed seconds', async () => {
  const r = new MetricsRegistry();
  const h = new Histogram({ name: 'h_seconds', help: 'h', buckets: [10], registers: [r] });
  const end = h.startTimer();
  const s = end();
  assert.ok(s >= 0 && s < 10);
  const count = (await r.getMetricsAsJSON())[0]!.values.find((v) => v.metricName === 'h_seconds_count');
  assert.equal(count?.value, 1);
});

test('mergeMetrics sums threads like the aggregator (counters, gauges, histograms, disjoint labels)', async () => {
  const a = both(SCRIPT);
  const b = both(SCRIPT);
  const want = await render([await a.theirs.getMetricsAsJSON(), await b.theirs.getMetricsAsJSON()]);
  const merged: MetricsJson = mergeMetrics([
    await a.ours.getMetricsAsJSON(),
    await b.ours.getMetricsAsJSON(),
  ]);
  assert.equal(await render([merged]), want);
  assert.match(await render([merged]), /t_requests_total\{service="hello",code="2xx"\} 10/);
});
