import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunsdError } from '../../../src/errors.ts';
import { MetricsRegistry as Registry } from '../../../src/room-metrics.ts';
import { TokenCache } from '../../../workers/token/cache.ts';
import type { Minted } from '../../../workers/token/fetcher.ts';
import { MetadataError } from '../../../workers/token/metadata-client.ts';
import { createTokenMetrics } from '../../../workers/token/metrics.ts';
import { FakeClock, flush } from '../../helpers/fake-clock.ts';

const SEC = 1000;
const MIN = 60 * SEC;

/** A scripted identity source: tokens of `lifetimeMs`, or failures while `down`, or held while `hold`. */
function source(clock: FakeClock, lifetimeMs: number) {
  const s = {
    calls: [] as { audience: string; at: number }[],
    down: false,
    hold: false,
    held: [] as (() => void)[],
    lifetimeMs,
    serial: 0,
    mint: (audience: string): Promise<Minted> => {
      s.calls.push({ audience, at: clock.now() });
      const answer = (): Minted => {
        if (s.down)
          throw new MetadataError('metadata server answered HTTP 503 to identity', {
            kind: 'status',
            status: 503,
          });
        return { value: `tok-${audience}-${++s.serial}`, expiresAt: clock.now() + s.lifetimeMs };
      };
      if (!s.hold) return Promise.resolve().then(answer);
      return new Promise((resolve, reject) =>
        s.held.push(() => {
          try {
            resolve(answer());
          } catch (e) {
            reject(e);
          }
        }),
      );
    },
    release() {
      for (const r of s.held.splice(0)) r();
    },
  };
  return s;
}

function setup(lifetimeMs: number, opts: { idleMs?: number; refreshAheadMs?: number } = {}) {
  const clock = new FakeClock();
  const src = source(clock, lifetimeMs);
  const registry = new Registry();
  let cache: TokenCache | null = null;
  const metrics = createTokenMetrics(registry, () => cache?.earliestExpirySec() ?? null);
  cache = new TokenCache({
    mint: src.mint,
    refreshAheadMs: opts.refreshAheadMs ?? 5 * MIN,
    idleMs: opts.idleMs ?? 60 * MIN,
    clock,
    random: () => 0,
    retryBackoff: { baseMs: 1000, maxMs: 8000 },
    metrics,
  });
  return { clock, src, cache, registry };
}

async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((a, v) => a + v.value, 0);
}

/** Resolves to the value if `p` settles within the current turn's microtasks, else 'pending'. */
async function settledNow<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

test('200 concurrent first requests for one audience cause one fetch', async () => {
  const { src, cache } = setup(60 * MIN);
  const got = await Promise.all(Array.from({ length: 200 }, () => cache.get('https://a.run.app')));
  assert.equal(src.calls.length, 1);
  assert.equal(new Set(got.map((g) => g.value)).size, 1);
});

test('1,000 requests over 3 audiences cause exactly 3 fetches; hits and misses counted', async () => {
  const { src, cache, registry } = setup(60 * MIN);
  const auds = ['https://a.run.app', 'https://b.run.app', 'https://c.run.app'];
  for (let i = 0; i < 1000; i++) {
    const got = await cache.get(auds[i % 3]!);
    assert.match(got.value, new RegExp(`^tok-${auds[i % 3]}`));
  }
  assert.equal(src.calls.length, 3);
  assert.equal(await metric(registry, 'runsd_token_cache_misses_total'), 3);
  assert.equal(await metric(registry, 'runsd_token_cache_hits_total'), 997);
  const exp = await metric(registry, 'runsd_token_earliest_expiry_seconds');
  assert.equal(exp, 3600);
});

test('refresh-ahead: 5 min before expiry, in the background, no request waits', async () => {
  const { clock, src, cache, registry } = setup(60 * MIN);
  const first = await cache.get('https://a.run.app');
  src.hold = true; // the refresh will hang until released
  await clock.advance(55 * MIN - 1);
  assert.equal(src.calls.length, 1);
  await clock.advance(1);
  assert.equal(src.calls.length, 2, 'refreshed at exp - 5 min');
  assert.equal(src.calls[1]!.at - src.calls[0]!.at, 55 * MIN);
  // While the refresh is in flight, requests are answered at once with the current token.
  assert.deepEqual(await settledNow(cache.get('https://a.run.app')), first);
  src.release();
  await flush();
  const second = await settledNow(cache.get('https://a.run.app'));
  assert.notEqual(second, 'pending');
  assert.notEqual((second as Minted).value, first.value);
  assert.equal(await metric(registry, 'runsd_token_refreshes_total', { outcome: 'ok' }), 1);
  assert.equal(await metric(registry, 'runsd_token_refreshes_total', { outcome: 'error' }), 0);
});

test('a short-lived token is refreshed halfway, before it expires', async () => {
  const { clock, src, cache } = setup(4 * SEC);
  let last = await cache.get('https://a.run.app');
  for (let i = 0; i < 40; i++) {
    await clock.advance(250);
    const p = cache.get('https://a.run.app');
    const got = await settledNow(p);
    assert.notEqual(got, 'pending', `request ${i} waited for a fetch`);
    assert.ok((got as Minted).expiresAt > clock.now());
    last = got as Minted;
  }
  // 10 s of use with a 4 s token refreshed every 2 s: 1 + 5 fetches.
  assert.equal(src.calls.length, 6);
  assert.deepEqual(
    src.calls.slice(1).map((c, i) => c.at - src.calls[i]!.at),
    [2000, 2000, 2000, 2000, 2000],
  );
  assert.ok(last.expiresAt - clock.now() > 0);
});

test('idle audiences are dropped at their refresh point; used ones are refreshed', async () => {
  const { clock, src, cache, registry } = setup(60 * MIN, { idleMs: 10 * MIN });
  await cache.get('https://idle.run.app');
  await cache.get('https://busy.run.app');
  await clock.advance(50 * MIN);
  await cache.get('https://busy.run.app');
  await clock.advance(5 * MIN);
  assert.deepEqual(cache.audiences(), ['https://busy.run.app']);
  assert.deepEqual(
    src.calls.map((c) => c.audience),
    ['https://idle.run.app', 'https://busy.run.app', 'https://busy.run.app'],
  );
  // Unused since: dropped at its next refresh point instead of refreshed.
  await clock.advance(55 * MIN);
  assert.deepEqual(cache.audiences(), []);
  assert.equal(src.calls.length, 3);
  assert.equal(clock.pending(), 0, 'no timers left behind');
  assert.equal(await metric(registry, 'runsd_token_earliest_expiry_seconds'), 0, 'no value when empty');
});

test('outage: a valid token keeps being served, refresh retried with backoff; then the coded error; then recovery', async () => {
  const { clock, src, cache, registry } = setup(60 * MIN);
  const first = await cache.get('https://a.run.app');
  src.down = true;
  await clock.advance(55 * MIN); // refresh fails
  assert.equal(src.calls.length, 2);
  // Retries follow the backoff schedule (random = 0: half the nominal delay): 0.5 s, 1 s, 2 s, 4 s, 4 s …
  await clock.advance(500);
  assert.equal(src.calls.length, 3);
  await clock.advance(1000);
  assert.equal(src.calls.length, 4);
  await clock.advance(2000);
  assert.equal(src.calls.length, 5);
  await clock.advance(4000);
  assert.equal(src.calls.length, 6);
  await clock.advance(4000);
  assert.equal(src.calls.length, 7);
  await flush();
  assert.equal(await metric(registry, 'runsd_token_refreshes_total', { outcome: 'error' }), 6);
  assert.equal(await metric(registry, 'runsd_token_refreshes_total', { outcome: 'ok' }), 0);
  // Still inside the token's life: served from cache, no request fails.
  for (let i = 0; i < 10; i++) assert.deepEqual(await cache.get('https://a.run.app'), first);
  // Past the point of use (10 s before exp): a request now gets the coded error with the reason.
  await clock.advance(5 * MIN - 11_500 - 10 * SEC - 1);
  assert.deepEqual(await cache.get('https://a.run.app'), first);
  await clock.advance(SEC);
  await assert.rejects(cache.get('https://a.run.app'), (err: unknown) => {
    assert.ok(err instanceof RunsdError);
    assert.equal(err.code, 'RUNSD_TOKEN_FETCH');
    assert.match(err.message, /https:\/\/a\.run\.app/);
    assert.match(err.message, /HTTP 503/);
    return true;
  });
  src.down = false;
  const recovered = await cache.get('https://a.run.app');
  assert.notEqual(recovered.value, first.value);
  assert.equal(recovered.expiresAt, clock.now() + 60 * MIN);
});

test('outage with nothing cached: each request gets RUNSD_TOKEN_FETCH; concurrent ones share one attempt', async () => {
  const { src, cache } = setup(60 * MIN);
  src.down = true;
  const results = await Promise.allSettled(Array.from({ length: 50 }, () => cache.get('https://a.run.app')));
  assert.equal(src.calls.length, 1);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.equal((r as PromiseRejectedResult).reason.code, 'RUNSD_TOKEN_FETCH');
  }
  assert.deepEqual(cache.audiences(), []);
});

test('close cancels every timer', async () => {
  const { clock, cache } = setup(60 * MIN);
  await cache.get('https://a.run.app');
  await cache.get('https://b.run.app');
  assert.equal(clock.pending(), 2);
  cache.close();
  assert.equal(clock.pending(), 0);
});
