// -check_services' pure parts (src/domain/service-list.ts): verdicts, refresh timing, suggestions,
// the Admin API page shape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  closestService,
  editDistance,
  MAX_LIST_AGE_MS,
  nextRefreshMs,
  noServiceMessage,
  pageNames,
  type RegionList,
  verdict,
} from '../../src/domain/service-list.ts';

const list = (names: string[] | null, fetchedAt = 1000): RegionList => ({
  region: 'us-central1',
  names,
  fetchedAt,
  state: names ? 'ok' : 'refused',
});

test('verdict: known, missing, and unchecked whenever the list cannot be trusted', () => {
  const table: [RegionList | undefined, string, number, string][] = [
    [list(['hello', 'world']), 'hello', 2000, 'known'],
    [list(['hello', 'world']), 'helo', 2000, 'missing'],
    [list([]), 'hello', 2000, 'missing'],
    [list(null), 'hello', 2000, 'unchecked'],
    [undefined, 'hello', 2000, 'unchecked'],
    [list(['hello']), 'nope', 1000 + MAX_LIST_AGE_MS, 'missing'],
    [list(['hello']), 'nope', 1001 + MAX_LIST_AGE_MS, 'unchecked'],
  ];
  for (const [l, name, now, want] of table) assert.equal(verdict(l, name, now), want, `${name} ${now}`);
});

test('nextRefreshMs: ±10 % jitter, doubling backoff capped at 10×, refusals every 10 intervals', () => {
  const table: [number, RegionList['state'], number, number, number][] = [
    [60, 'ok', 0, 0, 54_000],
    [60, 'ok', 0, 0.5, 60_000],
    [60, 'ok', 0, 1, 66_000],
    [60, 'unavailable', 1, 0.5, 120_000],
    [60, 'unavailable', 3, 0.5, 480_000],
    [60, 'unavailable', 4, 0.5, 600_000],
    [60, 'unavailable', 30, 0.5, 600_000],
    [60, 'refused', 1, 0.5, 600_000],
    [10, 'ok', 0, 2, 11_000],
  ];
  for (const [sec, state, failures, rand, want] of table)
    assert.equal(nextRefreshMs(sec, state, failures, rand), want, `${sec} ${state} ${failures} ${rand}`);
});

test('closestService: edit distance, ties alphabetical, nothing when no name is near', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('hello', 'hello'), 0);
  const names = ['hello', 'world', 'public', 'billing-api'];
  const table: [string, string | null][] = [
    ['helo', 'hello'],
    ['hellp', 'hello'],
    ['wrold', 'world'],
    ['billing', 'billing-api'],
    ['metadata', null],
    ['x', null],
  ];
  for (const [name, want] of table) assert.equal(closestService(name, names), want, name);
  assert.equal(closestService('ab', ['ac', 'aa']), 'aa', 'a tie goes to the first alphabetically');
  assert.equal(closestService('hello', []), null);
  assert.equal(
    noServiceMessage('helo', 'us-central1', names),
    'no Cloud Run service "helo" in us-central1: did you mean hello?',
  );
  assert.equal(
    noServiceMessage('metadata', 'us-central1', names),
    'no Cloud Run service "metadata" in us-central1 (4 services there)',
  );
});

test('pageNames: names from services[].name, the next page token, nothing from anything else', () => {
  assert.deepEqual(
    pageNames({
      services: [
        { name: 'projects/1/locations/us-central1/services/hello' },
        { name: 'projects/p/locations/us-central1/services/my-api' },
        { name: 'garbage' },
        { uri: 'x' },
        null,
      ],
      nextPageToken: 'abc',
    }),
    { names: ['hello', 'my-api'], next: 'abc' },
  );
  assert.deepEqual(pageNames({}), { names: [], next: null });
  assert.deepEqual(pageNames(null), { names: [], next: null });
  assert.deepEqual(pageNames({ services: 'x', nextPageToken: '' }), { names: [], next: null });
});
