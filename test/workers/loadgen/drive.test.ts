// The driver on a fake clock: in an open loop, latency runs from each request's intended send time,
// so a slow answer is charged to the requests queued behind it (coordinated omission corrected);
// in a closed loop it runs from the actual send. Ticks close each second.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeWire, summarize } from '../../../src/domain/loadgen-histogram.ts';
import type { Tick } from '../../../src/domain/loadgen-report.ts';
import { drive } from '../../../workers/loadgen/drive.ts';
import type { Outcome } from '../../../workers/loadgen/spec.ts';
import { FakeClock } from '../../helpers/fake-clock.ts';

/** A fake target on the fake clock: answers after serviceMs(i) ms, recording actual send times. */
function target(clock: FakeClock, serviceMs: (i: number) => number) {
  const sent: number[] = [];
  const send = () =>
    new Promise<Outcome>((resolve) => {
      const i = sent.length;
      sent.push(clock.now());
      clock.setTimer(
        () => resolve({ kind: 'response', status: 200, runsdError: null, grpcStatus: null, bytes: 3 }),
        serviceMs(i),
      );
    });
  return { sent, send };
}

// HdrHistogram keeps 3 significant digits: 10 ms reads back as up to 10.01 ms
const near = (got: number | undefined, want: number) =>
  assert.ok(got !== undefined && Math.abs(got - want) <= want * 0.001 + 0.001, `${got} vs ${want}`);

async function runOn(clock: FakeClock, run: Promise<unknown>, ms: number) {
  await clock.advance(ms);
  return run;
}

test('open loop, fast target: sent on schedule; latency = service time', async () => {
  const clock = new FakeClock(0);
  const t = target(clock, () => 5);
  const ticks: Tick[] = [];
  const done = drive({
    plan: { startMs: 0, warmupMs: 0, durationMs: 1000, requests: null, rate: 20 },
    loops: 4,
    graceMs: 100,
    send: t.send,
    cutAll: () => {},
    clock,
    onTick: (k) => ticks.push(k),
  });
  const r = await runOn(clock, done, 2000).then(() => done);
  assert.deepEqual(
    t.sent,
    Array.from({ length: 20 }, (_, i) => i * 50),
  );
  assert.deepEqual(r.statuses, { '200': 20 });
  const s = summarize(mergeWire([r.latency]));
  near(s?.min, 5);
  near(s?.max, 5);
  assert.equal(r.missed, 0);
  // the last answer came at 955: the run ends there, with one (short) interval
  assert.deepEqual(
    ticks.map((k) => [k.t, k.responses]),
    [[955, 20]],
  );
});

test('open loop, one connection and one slow answer: the requests queued behind it are late, and charged for it', async () => {
  const clock = new FakeClock(0);
  // rate 10/s (every 100 ms) on one connection; request 2 takes 350 ms, the others 10 ms
  const t = target(clock, (i) => (i === 2 ? 350 : 10));
  const done = drive({
    plan: { startMs: 0, warmupMs: 0, durationMs: 1000, requests: null, rate: 10 },
    loops: 1,
    graceMs: 1000,
    send: t.send,
    cutAll: () => {},
    clock,
  });
  await clock.advance(3000);
  const r = await done;
  // intended: 0 100 200 300 400 500 …; actual: 2 is answered at 550, so 3, 4, 5 go at 550, 560, 570
  assert.deepEqual(t.sent, [0, 100, 200, 550, 560, 570, 600, 700, 800, 900]);
  const s = summarize(mergeWire([r.latency]));
  assert.ok(s);
  // slot 3 was due at 300 and answered at 560: 260 ms, not the 10 ms a closed-loop tool would report
  near(s.max, 350);
  assert.equal(s.count, 10);
  const lat = [10, 10, 350, 260, 170, 80, 10, 10, 10, 10].sort((a, b) => a - b);
  // 350, 260, 170, 80 ms: four slow requests, where a closed-loop count would see one
  const slow = r.latency.filter(([us]) => us > 50_000).reduce((a, [, n]) => a + n, 0);
  assert.equal(slow, 4);
  near(s.mean, lat.reduce((a, b) => a + b, 0) / lat.length);
  near(s.p50, lat[4] ?? 0); // the 5th of 10 (HdrHistogram's p50 is the lower median)
});

test('closed loop on the same target: latency from the actual send (no correction)', async () => {
  const clock = new FakeClock(0);
  const t = target(clock, (i) => (i === 2 ? 350 : 10));
  const done = drive({
    plan: { startMs: 0, warmupMs: 0, durationMs: 1000, requests: 10, rate: null },
    loops: 1,
    graceMs: 1000,
    send: t.send,
    cutAll: () => {},
    clock,
  });
  await clock.advance(3000);
  const r = await done;
  assert.deepEqual(t.sent, [0, 10, 20, 370, 380, 390, 400, 410, 420, 430]);
  const s = summarize(mergeWire([r.latency]));
  near(s?.min, 10);
  near(s?.max, 350);
  assert.equal(s?.count, 10);
  assert.equal(r.elapsedMs, 440);
});

test('a target that cannot keep up: missed slots are counted; in-flight requests are cut at end + grace', async () => {
  const clock = new FakeClock(0);
  let cuts = 0;
  const t = target(clock, () => 10_000);
  const done = drive({
    plan: { startMs: 0, warmupMs: 0, durationMs: 1000, requests: null, rate: 10 },
    loops: 2,
    graceMs: 200,
    send: t.send,
    cutAll: () => cuts++,
    clock,
  });
  await clock.advance(12_000);
  const r = await done;
  assert.deepEqual(t.sent, [0, 100]);
  assert.equal(r.abandoned, 2);
  assert.equal(r.missed, 8);
  assert.deepEqual(r.statuses, {});
  assert.ok(cuts >= 1);
  assert.equal(summarize(mergeWire([r.latency])), null);
});

test('warm-up: requests in it are sent but not reported; the timeline starts after it', async () => {
  const clock = new FakeClock(0);
  const t = target(clock, () => 1);
  const ticks: Tick[] = [];
  const done = drive({
    plan: { startMs: 0, warmupMs: 500, durationMs: 1500, requests: null, rate: 10 },
    loops: 1,
    graceMs: 100,
    send: t.send,
    cutAll: () => {},
    clock,
    onTick: (k) => ticks.push(k),
  });
  await clock.advance(3000);
  const r = await done;
  assert.equal(t.sent.length, 20);
  assert.deepEqual(r.statuses, { '200': 15 });
  assert.deepEqual(
    ticks.map((k) => [k.t, k.responses]),
    [
      [1000, 10],
      [1401, 5],
    ],
  );
});

test('answers still in flight at the deadline join the last interval (no few-ms tick with a rate it never had)', async () => {
  const clock = new FakeClock(0);
  // closed loop, 4 senders, 300 ms answers: sends at 0, 300, …, 1800; the last 4 answers at 2100
  const t = target(clock, () => 300);
  const ticks: Tick[] = [];
  const done = drive({
    plan: { startMs: 0, warmupMs: 0, durationMs: 2000, requests: null, rate: null },
    loops: 4,
    graceMs: 500,
    send: t.send,
    cutAll: () => {},
    clock,
    onTick: (k) => ticks.push(k),
  });
  await clock.advance(3000);
  const r = await done;
  assert.deepEqual(r.statuses, { '200': 28 });
  assert.deepEqual(
    ticks.map((k) => [k.t, k.responses]),
    [
      [1000, 12],
      [2100, 16],
    ],
  );
});
