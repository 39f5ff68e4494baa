import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createHistogram,
  histogramToWire,
  mergeWire,
  percentileCurve,
  summarize,
} from '../../src/domain/loadgen-histogram.ts';

const within = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= want * 0.001 + 0.001, `${what}: ${got} vs ${want}`);

test('percentiles of a known distribution (3 significant digits)', () => {
  const h = createHistogram();
  for (let i = 1; i <= 1000; i++) h.recordValue(i * 1000); // 1 ms .. 1000 ms
  const s = summarize(h);
  assert.ok(s);
  assert.equal(s.count, 1000);
  within(s.p999, 999, 'p99.9');
  const curve = percentileCurve(h);
  assert.deepEqual(curve[0], [0, 1]);
  assert.deepEqual(curve.at(-1), [100, 1000]);
  for (let i = 1; i < curve.length; i++) assert.ok(curve[i]![1] >= curve[i - 1]![1], 'the curve never falls');
  within(s.p50, 500, 'p50');
  within(s.p90, 900, 'p90');
  within(s.p99, 990, 'p99');
  assert.equal(s.max, 1000);
  assert.equal(s.min, 1);
});

test('merging wire histograms equals recording everything in one', () => {
  const cases: number[][][] = [
    [
      [100, 200, 300],
      [400, 500],
    ],
    [[], [7]],
    [[], []],
    [
      [1, 1, 1, 5_000_000],
      [2, 2],
      [123_456, 987_654_321],
    ],
  ];
  for (const parts of cases) {
    const whole = createHistogram();
    const wires = parts.map((values) => {
      const h = createHistogram();
      for (const v of values) {
        h.recordValue(v);
        whole.recordValue(v);
      }
      const w = histogramToWire(h);
      // plain arrays of [µs, count]: they survive structured clone / JSON
      assert.deepEqual(JSON.parse(JSON.stringify(w)), w);
      return w;
    });
    assert.deepEqual(summarize(mergeWire(wires)), summarize(whole), JSON.stringify(parts));
  }
});

test('the wire form keeps the exact max and the counts', () => {
  const h = createHistogram();
  h.recordValueWithCount(99_999, 3);
  h.recordValue(10);
  const w = histogramToWire(h);
  assert.deepEqual(w.at(-1), [99_999, 3]);
  assert.equal(
    w.reduce((a, [, n]) => a + n, 0),
    4,
  );
  // no values, no percentiles: never a made-up "p50 0.00 ms"
  assert.equal(summarize(createHistogram()), null);
  assert.deepEqual(percentileCurve(createHistogram()), []);
});

test('percentiles never exceed the exact max (bucket upper bounds can)', () => {
  for (const v of [149_751, 1_000_001, 7, 65_535]) {
    const h = createHistogram();
    h.recordValueWithCount(v, 100);
    const s = summarize(h);
    assert.ok(s);
    assert.equal(s.max, v / 1000);
    assert.ok(s.p50 <= s.max && s.p99 <= s.max, JSON.stringify(s));
  }
});
