import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport } from '../../src/domain/loadgen-format.ts';
import { mergeResults, REPORT_SCHEMA, type TaskResult } from '../../src/domain/loadgen-report.ts';
import { meta, task } from '../helpers/loadgen-results.ts';

test('tasks merge: counts add, latency merges, the task rates add up', () => {
  const r = mergeResults(
    [
      task([1, 2, 3], { statuses: { '200': 3 }, bytesIn: 30, elapsedMs: 1000, missed: 2 }),
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
  assert.equal(r.missed, 2);
  assert.equal(r.elapsedMs, 2000);
  assert.deepEqual(r.statuses, { '200': 4, '503': 1 });
  assert.deepEqual(r.runsdErrors, { RUNSD_TOKEN_FETCH: 1 });
  assert.deepEqual(r.errors, { ECONNRESET: 2 });
  assert.ok(r.latencyMs);
  assert.equal(r.latencyMs.count, 5);
  assert.equal(r.latencyMs.max, 100);
  assert.ok(Math.abs(r.latencyMs.p50 - 3) <= 0.003, `p50 ${r.latencyMs.p50}`); // 3 significant digits
  assert.deepEqual(r.percentiles.at(-1), [100, 100]);
});

test('ok counts 2xx and 3xx, minus gRPC calls whose grpc-status is not 0', () => {
  const cases: [Partial<TaskResult>, number][] = [
    [{ statuses: { '200': 1, '204': 1, '301': 1 } }, 3],
    [{ statuses: { '199': 1, '400': 1, '404': 1, '500': 1 } }, 0],
    [{}, 0],
    [{ statuses: { '200': 5 }, grpcStatuses: { '0': 3, '5': 2 } }, 3],
  ];
  for (const [over, ok] of cases)
    assert.equal(mergeResults([task([], over)], meta).ok, ok, JSON.stringify(over));
});

test('timelines merge by second across tasks; a second without responses has no percentiles', () => {
  const tick = (t: number, ms: number[], errors = 0) => ({
    t,
    responses: ms.length,
    errors,
    latency: task(ms).latency,
  });
  const r = mergeResults(
    [
      task([1], {
        statuses: { '200': 1 },
        timeline: [tick(1000, [1, 2]), tick(2000, [], 3), tick(2500, [9])],
      }),
      task([1], { statuses: { '200': 1 }, timeline: [tick(1000, [4]), tick(2000, [])] }),
    ],
    meta,
  );
  assert.deepEqual(r.timeline, [
    { t: 1, reqPerSec: 3, errors: 0, p50: 2, p90: 4, p99: 4, max: 4 },
    { t: 2, reqPerSec: 0, errors: 3, p50: null, p90: null, p99: null, max: null },
    { t: 3, reqPerSec: 2, errors: 0, p50: 9, p90: 9, p99: 9, max: 9 },
  ]);
});

test('--json schema: the documented fields, with the version', () => {
  const r = JSON.parse(JSON.stringify(mergeResults([task([5], { statuses: { '200': 1 } })], meta)));
  assert.equal(r.schema, REPORT_SCHEMA);
  assert.equal(REPORT_SCHEMA, 'runsd-loadtest/1');
  assert.deepEqual(Object.keys(r), [
    'schema',
    'kind',
    'target',
    'load',
    'responses',
    'ok',
    'errorsTotal',
    'abandoned',
    'missed',
    'reqPerSec',
    'bytesIn',
    'elapsedMs',
    'latencyMs',
    'percentiles',
    'statuses',
    'grpcStatuses',
    'runsdErrors',
    'errors',
    'timeline',
  ]);
  assert.deepEqual(Object.keys(r.target), ['url', 'proxy', 'protocol', 'method', 'grpc']);
  assert.deepEqual(Object.keys(r.load), [
    'model',
    'connections',
    'streams',
    'threads',
    'durationMs',
    'requests',
    'rate',
    'warmupMs',
    'timeoutMs',
  ]);
  assert.deepEqual(Object.keys(r.latencyMs), [
    'count',
    'min',
    'mean',
    'p50',
    'p75',
    'p90',
    'p99',
    'p999',
    'max',
  ]);
  // no responses: latencyMs is null, not a row of zeros
  const none = JSON.parse(JSON.stringify(mergeResults([task([], { errors: { ECONNREFUSED: 3 } })], meta)));
  assert.equal(none.latencyMs, null);
  assert.deepEqual(none.percentiles, []);
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
    /^GET http:\/\/hello\/ via proxy http:\/\/127\.0\.0\.1:1234 {2}http1, closed loop, 1 s, 4 connections, 2 threads$/m,
    /requests {3}3 responses \(2 ok\), 4 errors, 0 cut at the deadline/,
    /rate {7}3 req\/s over 1\.0 s, 2\.0 KiB received/,
    /latency {4}p50 20\.0 ms {2}p90 300 ms {2}p99 300 ms {2}p99\.9 300 ms {2}max 300 ms/,
    /status {5}200×2 {2}503×1/,
    /x-runsd-error {2}RUNSD_FACT_MISSING×1/,
    /errors {5}ECONNREFUSED×4/,
    /identity calls: https:\/\/hello-1\.us-central1\.run\.app×1/,
  ];
  for (const re of want) assert.match(text, re);
  assert.doesNotMatch(text, /missed|grpc-status/, 'closed loop, not gRPC');
  const empty = formatReport(mergeResults([], meta));
  assert.match(empty, /status {5}none\n {2}x-runsd-error {2}none\n {2}errors {5}none/);
  assert.match(empty, /latency {4}none: no responses/);
  assert.doesNotMatch(empty, /p50|0\.00 ms/, 'no made-up percentiles');
});

test('open loop and gRPC lines', () => {
  const open = {
    ...meta,
    load: { ...meta.load, model: 'open' as const, rate: 500, warmupMs: 2000, streams: 4 },
  };
  const grpc = { ...open, target: { ...meta.target, grpc: '/a.B/C', protocol: 'h2' } };
  const text = formatReport(
    mergeResults([task([1], { statuses: { '200': 1 }, grpcStatuses: { '0': 1 }, missed: 7 })], grpc),
  );
  assert.match(text, /^gRPC \/a\.B\/C at http:\/\/hello\/ via proxy/);
  assert.match(
    text,
    /open loop at 500 req\/s \(latency from the intended send time\), 1 s, 2 s warm-up, 4 connections × 4 streams/,
  );
  assert.match(text, /missed {5}7 due but never sent/);
  assert.match(text, /grpc-status 0×1/);
});
