import assert from 'node:assert/strict';
import { test } from 'node:test';
import { align, charts, ninesX } from '../../src/domain/loadgen-charts.ts';
import { compareReport } from '../../src/domain/loadgen-compare.ts';
import { mergeResults } from '../../src/domain/loadgen-report.ts';
import { meta, timedTask } from '../helpers/loadgen-results.ts';

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

test('the nines axis: 0 → 0, 90 → 1, 99 → 2, 99.9 → 3, capped at 99.999', () => {
  for (const [p, x] of [
    [0, 0],
    [90, 1],
    [99, 2],
    [99.9, 3],
    [99.99, 4],
    [99.999, 5],
    [100, 5],
  ] as const)
    assert.ok(close(ninesX(p), x), `ninesX(${p}) = ${ninesX(p)}, want ${x}`);
});

test('align: one sorted x column from every line, null where a line has no point (or a null one)', () => {
  assert.deepEqual(
    align([
      [
        [2, 20],
        [1, 10],
      ],
      [
        [3, 30],
        [1, null],
      ],
    ]),
    [
      [1, 2, 3],
      [10, 20, null],
      [null, null, 30],
    ],
  );
  assert.deepEqual(align([[], []]), [[], [], []]);
});

test('one report: p50/p90/p99/max over time in their own colours, req/s, the distribution', () => {
  const r = mergeResults([timedTask(3, 1)], meta);
  const [latency, throughput, dist] = charts([{ label: 'run', report: r }]);
  assert.equal(latency?.id, 'latency');
  assert.deepEqual(
    latency?.series.map((s) => [s.label, s.stroke, s.dash]),
    [
      ['p50', '#1f77b4', undefined],
      ['p90', '#2ca02c', undefined],
      ['p99', '#ff7f0e', undefined],
      ['max', '#d62728', undefined],
    ],
  );
  assert.deepEqual(latency?.data[0], [1, 2, 3]);
  assert.deepEqual(
    latency?.data[2],
    r.timeline.map((p) => p.p90),
  );
  assert.ok(latency?.yLog && latency.xWhole && !latency.spanGaps);
  // p50 < p90 < p99 ≤ max in every second: the columns are the percentiles they are labelled
  for (let i = 0; i < 3; i++) {
    const [p50, p90, p99, max] = [1, 2, 3, 4].map((k) => latency?.data[k]?.[i] as number);
    assert.ok(p50! < p90! && p90! < p99! && p99! <= max!, `${p50} ${p90} ${p99} ${max}`);
  }
  assert.deepEqual(
    throughput?.series.map((s) => s.label),
    ['req/s'],
    'no errors line without errors',
  );
  assert.deepEqual(throughput?.data, [
    [1, 2, 3],
    [200, 200, 200],
  ]);
  assert.equal(throughput?.yLog, false);
  assert.equal(dist?.id, 'percentiles');
  assert.deepEqual(dist?.data[1]?.at(-1), r.latencyMs?.max, 'the curve ends at the max');
  assert.ok(dist?.spanGaps && dist.yLog);
  // 600 responses: the curve reaches 99.999 (x = 5), so every tick is there
  assert.deepEqual(
    dist?.xTicks?.map(([, l]) => l),
    ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%'],
  );
});

test('errors get a line of their own; a run without a 99.9th percentile point has no tick past it', () => {
  const r = mergeResults([timedTask(2, 1, 7)], meta);
  const curve = r.percentiles.filter(([p]) => p <= 99);
  const [, throughput, dist] = charts([{ label: 'run', report: { ...r, percentiles: curve } }]);
  assert.deepEqual(
    throughput?.series.map((s) => s.label),
    ['req/s', 'errors/s'],
  );
  assert.deepEqual(throughput?.data[2], [7, 7]);
  assert.deepEqual(
    dist?.xTicks?.map(([, l]) => l),
    ['0%', '90%', '99%'],
  );
});

test('--compare: both sides on every chart, a colour per side, a dash per percentile', () => {
  const direct = { ...meta, target: { ...meta.target, url: 'https://hello-1.r.run.app/', proxy: null } };
  const c = compareReport(
    [
      { side: 'direct', round: 1, results: [timedTask(2, 1)] },
      { side: 'runsd', round: 1, results: [timedTask(3, 2)] },
    ],
    { direct, runsd: meta },
  );
  const [latency, throughput, dist] = charts([
    { label: 'direct', report: c.direct },
    { label: 'runsd', report: c.runsd },
  ]);
  assert.deepEqual(
    latency?.series.map((s) => [s.label, s.stroke, s.dash?.join(',') ?? 'solid']),
    [
      ['direct p50', '#1f77b4', 'solid'],
      ['direct p90', '#1f77b4', '10,5'],
      ['direct p99', '#1f77b4', '4,4'],
      ['direct max', '#1f77b4', '1,3'],
      ['runsd p50', '#d62728', 'solid'],
      ['runsd p90', '#d62728', '10,5'],
      ['runsd p99', '#d62728', '4,4'],
      ['runsd max', '#d62728', '1,3'],
    ],
  );
  // direct ran 2 s, runsd 3: one x column, direct has no third second
  assert.deepEqual(latency?.data[0], [1, 2, 3]);
  assert.equal(latency?.data[1]?.[2], null);
  assert.equal(typeof latency?.data[5]?.[2], 'number');
  assert.deepEqual(
    throughput?.series.map((s) => [s.label, s.stroke]),
    [
      ['direct req/s', '#1f77b4'],
      ['runsd req/s', '#d62728'],
    ],
  );
  assert.deepEqual(
    dist?.series.map((s) => s.label),
    ['direct latency', 'runsd latency'],
  );
  // runsd's latencies were made twice direct's: so is its curve, point for point
  const [xs, d, r] = dist?.data ?? [];
  assert.ok(xs && d && r && xs.length > 10);
  for (let i = 0; i < xs.length; i++) assert.ok((r[i] as number) > (d[i] as number), `at x=${xs[i]}`);
});
