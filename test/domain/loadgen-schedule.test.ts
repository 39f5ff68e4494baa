// The open-loop schedule: slot i is due at start + i/rate whatever happens; warm-up slots are not
// counted; -n caps the counted ones; missed = due but never handed out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Schedule } from '../../src/domain/loadgen-schedule.ts';

const plan = { startMs: 1000, warmupMs: 0, durationMs: 1000, requests: null, rate: 10 };

test('open loop: due times are start + i/rate, independent of when take() is called', () => {
  const s = new Schedule(plan);
  const dues: number[] = [];
  // a sender that is late for everything still gets the slots in order, at their own due times
  for (let slot = s.take(5000); slot; slot = s.take(5000)) dues.push(slot.due);
  assert.deepEqual(dues, [1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900]);
  assert.equal(s.counted, 10);
  assert.equal(s.missed(5000), 0);
});

test('fractional rates do not drift (each due time is computed from the start)', () => {
  const s = new Schedule({ ...plan, rate: 3, durationMs: 10_000 });
  let last = 0;
  for (let slot = s.take(0); slot; slot = s.take(0)) last = slot.due;
  assert.equal(s.counted, 30);
  assert.ok(Math.abs(last - (1000 + (29 * 1000) / 3)) < 1e-9, String(last));
});

test('warm-up slots are handed out but not counted; -n caps the counted ones', () => {
  const s = new Schedule({ ...plan, warmupMs: 300, requests: 4 });
  const got: [number, boolean][] = [];
  for (let slot = s.take(0); slot; slot = s.take(0)) got.push([slot.due, slot.counted]);
  assert.deepEqual(got, [
    [1000, false],
    [1100, false],
    [1200, false],
    [1300, true],
    [1400, true],
    [1500, true],
    [1600, true],
  ]);
  assert.equal(s.measureFrom, 1300);
  assert.equal(s.endAt, 2300);
});

test('missed: counted slots due before now that no sender took', () => {
  const s = new Schedule(plan);
  s.take(0); // 1000
  s.take(0); // 1100
  assert.equal(s.missed(1000), 0, 'at the start nothing is missed yet');
  assert.equal(s.missed(1150), 0, 'two due, two taken');
  assert.equal(s.missed(1450), 3, '1200, 1300, 1400 due and not taken');
  assert.equal(s.missed(99_999), 8, 'capped at the end of the schedule');
  const capped = new Schedule({ ...plan, requests: 5 });
  assert.equal(capped.missed(99_999), 5, '-n caps what can be missed');
});

test('closed loop: due = now, until the end or the count', () => {
  const s = new Schedule({ ...plan, rate: null, requests: 3 });
  assert.deepEqual(s.take(1200), { due: 1200, counted: true });
  assert.deepEqual(s.take(1250), { due: 1250, counted: true });
  assert.ok(s.take(1300));
  assert.equal(s.take(1400), null, 'count reached');
  const timed = new Schedule({ ...plan, rate: null });
  assert.ok(timed.take(1999));
  assert.equal(timed.take(2000), null, 'no slot at or after the end');
  assert.equal(timed.missed(5000), 0);
  const warm = new Schedule({ ...plan, rate: null, warmupMs: 500 });
  assert.deepEqual(warm.take(1200), { due: 1200, counted: false });
  assert.deepEqual(warm.take(1500), { due: 1500, counted: true });
});

test('a rate of 0 is refused', () => {
  assert.throws(() => new Schedule({ ...plan, rate: 0 }), RangeError);
});

test('a fractional start never adds a slot: -R 50 -d 2.2 --warmup 0.3 is exactly 110 counted', () => {
  // 388.6785477515975 + 300 + 2200 lands above 388.6785477515975 + 2500 in floating point: compared
  // as absolute times, slot 125 (due exactly at the end) would be handed out
  for (const startMs of [388.6785477515975, 0, 1000, 123456.789]) {
    const s = new Schedule({ startMs, warmupMs: 300, durationMs: 2200, requests: null, rate: 50 });
    let all = 0;
    while (s.take(0)) all++;
    assert.equal(s.counted, 110, String(startMs));
    assert.equal(all, 125, String(startMs));
  }
});
