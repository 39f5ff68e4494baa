import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareReport, type Leg, roundOrder } from '../../src/domain/loadgen-compare.ts';
import { formatCompare, formatProgress } from '../../src/domain/loadgen-format.ts';
import { meta, task } from '../helpers/loadgen-results.ts';

const direct = { ...meta, target: { ...meta.target, url: 'https://hello-1.r.run.app/', proxy: null } };

test('rounds alternate which side goes first', () => {
  assert.deepEqual([1, 2, 3, 4].map(roundOrder), [
    ['direct', 'runsd'],
    ['runsd', 'direct'],
    ['direct', 'runsd'],
    ['runsd', 'direct'],
  ]);
});

test('legs of a side add up; rates are per time actually run; ratios and added latency', () => {
  const leg = (side: 'direct' | 'runsd', round: number, ms: number[], elapsedMs: number): Leg => ({
    side,
    round,
    results: [
      task(ms, {
        statuses: { '200': ms.length },
        elapsedMs,
        timeline: [{ t: elapsedMs, responses: ms.length, errors: 0, latency: task(ms).latency }],
      }),
    ],
  });
  const c = compareReport(
    [
      leg('direct', 1, [1, 1, 1, 1], 1000),
      leg('runsd', 1, [2, 2, 2], 1000),
      leg('runsd', 2, [3, 3, 3], 1000),
      leg('direct', 2, [1, 1, 1, 1], 1000),
    ],
    { direct, runsd: meta },
  );
  assert.equal(c.kind, 'compare');
  assert.equal(c.schema, 'runsd-loadtest/1');
  assert.equal(c.direct.responses, 8);
  assert.equal(c.runsd.responses, 6);
  assert.equal(c.direct.reqPerSec, 4); // 8 in 2 s, not 4 + 4
  assert.equal(c.runsd.reqPerSec, 3);
  assert.equal(c.ratios.throughput, 0.75);
  assert.equal(c.ratios.p50AddedMs, 1);
  assert.equal(c.ratios.p99AddedMs, 2);
  assert.deepEqual(
    c.rounds.map((r) => [r.round, r.first, r.direct.reqPerSec, r.runsd.reqPerSec, r.runsd.p50]),
    [
      [1, 'direct', 4, 3, 2],
      [2, 'runsd', 4, 3, 3],
    ],
  );
  // the side's timeline runs on across its legs
  assert.deepEqual(
    c.runsd.timeline.map((p) => p.t),
    [1, 2],
  );
  const text = formatCompare(c);
  assert.match(text, /compare: 2 rounds/);
  assert.match(text, /straight to the upstream:\nGET https:\/\/hello-1\.r\.run\.app\//);
  assert.match(text, /through runsd:\nGET http:\/\/hello\/ via proxy/);
  assert.match(text, /runsd vs direct: throughput ×0\.750, p50 \+1\.00 ms added, p99 \+2\.00 ms added/);
});

test('a side with no responses: no ratio, no added latency, no made-up numbers', () => {
  const c = compareReport(
    [
      { side: 'direct', round: 1, results: [task([], { errors: { ECONNREFUSED: 9 } })] },
      { side: 'runsd', round: 1, results: [task([2], { statuses: { '200': 1 } })] },
    ],
    { direct, runsd: meta },
  );
  assert.deepEqual(c.ratios, { throughput: null, p50AddedMs: null, p99AddedMs: null });
  assert.match(formatCompare(c), /throughput ×n\/a, p50 n\/a, p99 n\/a/);
});

test('the progress line', () => {
  assert.equal(
    formatProgress({ phase: 'run', elapsedMs: 3000, reqPerSec: 1543.4, errors: 2, p99: 31.72 }),
    'run    3 s     1543 req/s  2 errors  p99 31.7 ms',
  );
  assert.match(
    formatProgress({ phase: 'warm-up', elapsedMs: 1000, reqPerSec: 0, errors: 0, p99: null }),
    /p99 –$/,
  );
});
