// The token room's metrics, registered in the room's own registry (the supervisor merges rooms).

/** Hits are counted where the cache answers: cache="room" here, cache="proxy" for the proxy's local
 * mirror (workers/proxy/metrics.ts registers the same name); the supervisor merges the two. */
export const TOKEN_HITS_HELP =
  "Token requests answered from a cache: the token room (room) or the proxy's mirror (proxy)";

import { Counter, Gauge, Histogram, type MetricsRegistry as Registry } from '../../src/room-metrics.ts';

export interface TokenMetrics {
  fetches: Counter<'outcome'>;
  hits: Counter<'cache'>;
  misses: Counter;
  refreshes: Counter<'outcome'>;
  fetchDuration: Histogram;
  earliestExpiry: Gauge;
}

/** `earliestExpiry` reads its value from `earliest()` at scrape time (seconds, or null = none). */
export function createTokenMetrics(registry: Registry, earliest: () => number | null): TokenMetrics {
  const registers = [registry];
  const m = {
    fetches: new Counter({
      name: 'runsd_token_fetches_total',
      help: 'Identity (ID token) calls to the metadata server, by outcome (ok, error, retry)',
      labelNames: ['outcome'],
      registers,
    }),
    hits: new Counter({
      name: 'runsd_token_cache_hits_total',
      help: TOKEN_HITS_HELP,
      labelNames: ['cache'],
      registers,
    }),
    misses: new Counter({
      name: 'runsd_token_cache_misses_total',
      help: 'Token requests that had to wait for a fetch',
      registers,
    }),
    refreshes: new Counter({
      name: 'runsd_token_refreshes_total',
      help: 'Background refreshes ahead of expiry, by outcome (ok, error), counted when they end',
      labelNames: ['outcome'],
      registers,
    }),
    fetchDuration: new Histogram({
      name: 'runsd_token_fetch_duration_seconds',
      help: 'Duration of one identity call to the metadata server',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    earliestExpiry: new Gauge({
      name: 'runsd_token_earliest_expiry_seconds',
      help: 'Seconds until the earliest cached token expires (absent when none is cached)',
      registers,
      collect() {
        const v = earliest();
        this.reset();
        if (v !== null) this.set(v);
      },
    }),
  };
  // Series from the start, so rate() sees the first failure (issue 13).
  for (const outcome of ['ok', 'error', 'retry']) m.fetches.inc({ outcome }, 0);
  for (const outcome of ['ok', 'error']) m.refreshes.inc({ outcome }, 0);
  m.hits.inc({ cache: 'room' }, 0);
  return m;
}
