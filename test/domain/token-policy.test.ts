import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metadataOrigin, parseRegionPath } from '../../src/domain/metadata-facts.ts';
import {
  backoffDelay,
  idle,
  jwtExp,
  mirrorStaleAt,
  refreshAt,
  retryable,
  safetyMarginMs,
  usable,
} from '../../src/domain/token-policy.ts';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (payload: unknown) => `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(payload)}.c2ln`;

test('jwtExp reads exp from the payload without verifying', () => {
  const cases: [string, number | null][] = [
    [jwt({ exp: 1_800_000_000, aud: 'https://x' }), 1_800_000_000],
    [jwt({ aud: 'https://x' }), null],
    [jwt({ exp: 'soon' }), null],
    [jwt({ exp: -1 }), null],
    [jwt([1, 2]), null],
    ['not-a-jwt', null],
    ['a.b', null],
    ['a.!!!.c', null],
    [`${b64({})}.${Buffer.from('{nope').toString('base64url')}.x`, null],
    ['', null],
  ];
  for (const [token, want] of cases) assert.equal(jwtExp(token), want, token);
});

test('refreshAt: 5 min before expiry, or half the life of short tokens', () => {
  const min = 60_000;
  const cases: [number, number, number, number][] = [
    // fetchedAt, expiresAt, refreshAhead, want
    [0, 60 * min, 5 * min, 55 * min],
    [1000, 1000 + 60 * min, 5 * min, 1000 + 55 * min],
    [0, 10 * min, 5 * min, 5 * min], // exactly 2× refresh-ahead: 5 min before
    [0, 9 * min, 5 * min, 4.5 * min], // shorter: halfway
    [0, 2 * min, 5 * min, 1 * min],
    [0, 4000, 300_000, 2000],
    [5000, 5000, 300_000, 5000], // already expired: now
    [5000, 1000, 300_000, 5000],
  ];
  for (const [f, e, a, want] of cases) assert.equal(refreshAt(f, e, a), want, `${f} ${e} ${a}`);
});

test('usable keeps a safety margin (10 s, or a tenth of a short life)', () => {
  assert.equal(safetyMarginMs(0, 3_600_000), 10_000);
  assert.equal(safetyMarginMs(0, 4000), 400);
  assert.equal(usable(3_589_999, 0, 3_600_000), true);
  assert.equal(usable(3_590_000, 0, 3_600_000), false);
  assert.equal(usable(3599, 0, 4000), true);
  assert.equal(usable(3600, 0, 4000), false);
  assert.equal(usable(10, 0, 0), false);
});

test('idle after idleMs without use', () => {
  assert.equal(idle(1000, 0, 1000), true);
  assert.equal(idle(999, 0, 1000), false);
});

test('mirrorStaleAt comes after the room refresh and before the safety margin', () => {
  const min = 60_000;
  assert.equal(mirrorStaleAt(0, 60 * min), 59 * min);
  assert.equal(mirrorStaleAt(0, 4000), 3000);
  assert.equal(mirrorStaleAt(5000, 4000), 5000);
  // For every lifetime the mirror asks again after the room refreshed (the room then has a new one)
  // and while the old token is still usable.
  for (const life of [1000, 4000, 60_000, 9 * min, 10 * min, 60 * min]) {
    const stale = mirrorStaleAt(0, life);
    assert.ok(stale >= refreshAt(0, life, 5 * min), `life ${life}`);
    assert.ok(usable(stale - 1, 0, life), `life ${life}`);
  }
});

test('backoffDelay: exponential, capped, equal jitter from the injected random', () => {
  const o = { baseMs: 100, maxMs: 2000 };
  const cases: [number, number, number][] = [
    [0, 0, 50],
    [0, 0.999999, 100],
    [1, 0, 100],
    [1, 0.5, 150],
    [2, 1, 400],
    [3, 0.25, 500],
    [4, 0, 800],
    [5, 0, 1000], // 3200 capped at 2000
    [5, 1, 2000],
    [60, 1, 2000],
    [-3, 0, 50],
  ];
  for (const [attempt, r, want] of cases)
    assert.equal(
      backoffDelay(attempt, o, () => r),
      want,
      `${attempt} ${r}`,
    );
  // The schedule never shrinks with the attempt for a fixed random.
  let prev = 0;
  for (let a = 0; a < 10; a++) {
    const d = backoffDelay(a, o, () => 0.3);
    assert.ok(d >= prev);
    prev = d;
  }
});

test('retryable: timeouts, network, 5xx, 429; not other 4xx', () => {
  assert.equal(retryable({ kind: 'timeout' }), true);
  assert.equal(retryable({ kind: 'network' }), true);
  assert.equal(retryable({ kind: 'invalid' }), false);
  for (const s of [500, 502, 503, 504, 429])
    assert.equal(retryable({ kind: 'status', status: s }), true, `${s}`);
  for (const s of [400, 401, 403, 404]) assert.equal(retryable({ kind: 'status', status: s }), false, `${s}`);
});

test('parseRegionPath and metadataOrigin', () => {
  assert.deepEqual(parseRegionPath('projects/123456789/regions/europe-west1\n'), {
    projectNumber: '123456789',
    region: 'europe-west1',
  });
  assert.equal(parseRegionPath('europe-west1'), null);
  assert.equal(parseRegionPath('projects/abc/regions/x'), null);
  assert.equal(metadataOrigin('127.0.0.1:8080'), 'http://127.0.0.1:8080');
  assert.equal(metadataOrigin('metadata.google.internal'), 'http://metadata.google.internal');
  assert.equal(metadataOrigin('http://127.0.0.1:9/'), 'http://127.0.0.1:9');
  assert.equal(metadataOrigin('[::1]:8080'), 'http://[::1]:8080');
  assert.equal(metadataOrigin('::1'), 'http://[::1]');
});
