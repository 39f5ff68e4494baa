import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHistogram, histogramToWire } from '../../src/domain/loadgen-histogram.ts';
import { formatReport, mergeResults, type TaskResult } from '../../src/domain/loadgen-report.ts';

function task(latenciesMs: number[], over: Partial<TaskResult>): TaskResult {
  const h = createHistogram();
  for (const ms of latenciesMs) h.recordValue(ms * 1000);
  return {
    latency: histogramToWire(h),
    statuses: {},
    runsdErrors: {},
    errors: {},
    abandoned: 0,
    bytesIn: 0,
    elapsedMs: 1000,
    ...over,
  };
}

const meta = {
  target: { url: 'http://hello/', proxy: 'http://127.0.0.1:1234', protocol: 'http1', method: 'GET' },
  durationMs: 1000,
  connections: 4,
  threads: 2,
};

test('tasks merge: counts add, latency merges, the task rates add up', () => {
  const r = mergeResults(
    [
      task([1, 2, 3], { statuses: { '200': 3 }, bytesIn: 30, elapsedMs: 1000 }),
      task([4, 100], {
        statuses: { '200': 1, '503': 1 },
        runsdErrors: { RUNSD_TOKEN_FETCH: 1 },
        errors: { ECONNRESET: 2 },
        abandoned: 1,
        bytesIn: 10,
        elapsedMs: 2000,
      }),
    ],
    meta,
  );
  assert.equal(r.responses, 5);
  assert.equal(r.ok, 4);
  assert.equal(r.errorsTotal, 2);
  assert.equal(r.reqPerSec, 4); // 3 in 1 s + 2 in 2 s
  assert.equal(r.bytesIn, 40);
  assert.equal(r.abandoned, 1);
  assert.deepEqual(r.statuses, { '200': 4, '503': 1 });
  assert.deepEqual(r.runsdErrors, { RUNSD_TOKEN_FETCH: 1 });
  assert.deepEqual(r.errors, { ECONNRESET: 2 });
  assert.equal(r.latencyMs.count, 5);
  assert.equal(r.latencyMs.max, 100);
  assert.ok(Math.abs(r.latencyMs.p50 - 3) <= 0.003, `p50 ${r.latencyMs.p50}`); // 3 significant digits
});

test('ok counts 2xx and 3xx only', () => {
  const cases: [Record<string, number>, number][] = [
    [{ '200': 1, '204': 1, '301': 1 }, 3],
    [{ '199': 1, '400': 1, '404': 1, '500': 1 }, 0],
    [{}, 0],
  ];
  for (const [statuses, ok] of cases) assert.equal(mergeResults([task([], { statuses })], meta).ok, ok);
});

test('the text report names rate, percentiles, statuses, runsd errors and transport errors', () => {
  const r = mergeResults(
    [
      task([1.5, 20, 300], {
        statuses: { '200': 2, '503': 1 },
        runsdErrors: { RUNSD_FACT_MISSING: 1 },
        errors: { ECONNREFUSED: 4 },
        bytesIn: 2048,
      }),
    ],
    meta,
  );
  r.emulator = { identityCalls: { 'https://hello-1.us-central1.run.app': 1 } };
  const text = formatReport(r);
  const want = [
    /^GET http:\/\/hello\/ via proxy http:\/\/127\.0\.0\.1:1234 {2}http1, 1 s, 4 connections, 2 threads$/m,
    /requests {3}3 responses \(2 ok\), 4 errors, 0 cut at the deadline/,
    /rate {7}3 req\/s, 2\.0 KiB received/,
    /latency {4}p50 20\.0 ms {2}p90 300 ms {2}p99 300 ms {2}max 300 ms/,
    /status {5}200×2 {2}503×1/,
    /x-runsd-error {2}RUNSD_FACT_MISSING×1/,
    /errors {5}ECONNREFUSED×4/,
    /identity calls: https:\/\/hello-1\.us-central1\.run\.app×1/,
  ];
  for (const re of want) assert.match(text, re);
  assert.match(
    formatReport(mergeResults([], meta)),
    /status {5}none\n {2}x-runsd-error {2}none\n {2}errors {5}none/,
  );
});
