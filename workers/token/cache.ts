// Per-audience ID-token cache: single-flight (any number of concurrent misses for one audience
// cause one fetch), refresh-ahead in the background for audiences in recent use (so a request
// almost never waits for a fetch), idle audiences dropped, and a still-usable token served through a
// metadata outage. Never logs a token: only the audience and the expiry.
import {
  type BackoffOptions,
  backoffDelay,
  idle,
  refreshAt,
  safetyMarginMs,
  usable,
} from '../../src/domain/token-policy.ts';
import { RunsdError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import { type Clock, realClock, type Timer } from './clock.ts';
import type { Minted } from './fetcher.ts';
import type { TokenMetrics } from './metrics.ts';

export interface TokenCacheOptions {
  mint(audience: string): Promise<Minted>;
  refreshAheadMs: number;
  idleMs: number;
  clock?: Clock;
  /** Between failed background refreshes (each one already retried inside mint()). */
  retryBackoff?: BackoffOptions;
  random?: () => number;
  metrics?: TokenMetrics;
  log?: Logger;
}

interface Entry {
  value: string;
  expiresAt: number;
  fetchedAt: number;
  refreshAt: number;
  lastUsed: number;
  timer: Timer | null;
  refreshing: boolean;
  failures: number;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Minted>>();
  private readonly clock: Clock;
  private readonly o: TokenCacheOptions;
  private closed = false;

  constructor(opts: TokenCacheOptions) {
    this.o = opts;
    this.clock = opts.clock ?? realClock;
  }

  /** A usable token for `audience`: cached, or fetched (shared with concurrent callers). */
  get(audience: string): Promise<Minted> {
    const now = this.clock.now();
    const e = this.entries.get(audience);
    if (e) e.lastUsed = now;
    if (e && usable(now, e.fetchedAt, e.expiresAt)) {
      this.o.metrics?.hits.inc({ cache: 'room' });
      // Normally the timer refreshes it; this only covers a lost timer (never bypasses a backoff).
      if (now >= e.refreshAt && !e.refreshing && e.timer === null) this.refresh(audience, e);
      return Promise.resolve({ value: e.value, expiresAt: e.expiresAt });
    }
    this.o.metrics?.misses.inc();
    return this.load(audience);
  }

  /** Cached audiences (for tests and metrics). */
  audiences(): string[] {
    return [...this.entries.keys()];
  }

  /** Seconds until the earliest cached token expires, or null when none is cached. */
  earliestExpirySec(): number | null {
    let min = Number.POSITIVE_INFINITY;
    for (const e of this.entries.values()) min = Math.min(min, e.expiresAt);
    return Number.isFinite(min) ? (min - this.clock.now()) / 1000 : null;
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) e.timer?.cancel();
    this.entries.clear();
  }

  private load(audience: string): Promise<Minted> {
    const running = this.inflight.get(audience);
    if (running) return running;
    const p = this.o
      .mint(audience)
      .then(
        (minted) => {
          this.store(audience, minted);
          return minted;
        },
        (err: unknown) => {
          const reason = err instanceof Error ? err.message : String(err);
          throw new RunsdError('RUNSD_TOKEN_FETCH', `no ID token for ${audience}: ${reason}`, { cause: err });
        },
      )
      .finally(() => this.inflight.delete(audience));
    this.inflight.set(audience, p);
    return p;
  }

  private store(audience: string, minted: Minted): void {
    if (this.closed) return;
    const now = this.clock.now();
    const old = this.entries.get(audience);
    old?.timer?.cancel();
    const e: Entry = {
      value: minted.value,
      expiresAt: minted.expiresAt,
      fetchedAt: now,
      refreshAt: refreshAt(now, minted.expiresAt, this.o.refreshAheadMs),
      lastUsed: old?.lastUsed ?? now,
      timer: null,
      refreshing: false,
      failures: 0,
    };
    this.entries.set(audience, e);
    this.schedule(audience, e, e.refreshAt - now);
    this.o.log?.info(3, 'ID token cached', {
      audience,
      expires: new Date(e.expiresAt).toISOString(),
      refresh_in_s: Math.round((e.refreshAt - now) / 1000),
    });
  }

  private schedule(audience: string, e: Entry, delayMs: number): void {
    e.timer?.cancel();
    e.timer = this.clock.setTimer(() => this.due(audience, e), Math.max(0, delayMs));
  }

  /** The refresh point (or a retry after a failed refresh) has come. */
  private due(audience: string, e: Entry): void {
    e.timer = null;
    if (this.closed || this.entries.get(audience) !== e) return;
    const now = this.clock.now();
    if (now < e.refreshAt) {
      this.schedule(audience, e, e.refreshAt - now); // an early (overflowed) timer
      return;
    }
    if (!usable(now, e.fetchedAt, e.expiresAt)) {
      this.entries.delete(audience); // refreshes failed until the end: the next request fetches
      return;
    }
    if (idle(now, e.lastUsed, this.o.idleMs)) {
      this.entries.delete(audience);
      this.o.log?.info(3, 'idle audience dropped', { audience });
      return;
    }
    this.refresh(audience, e);
  }

  private refresh(audience: string, e: Entry): void {
    e.refreshing = true;
    this.load(audience).then(
      () => this.o.metrics?.refreshes.inc({ outcome: 'ok' }),
      (err: unknown) => this.refreshFailed(audience, e, err),
    );
  }

  private refreshFailed(audience: string, e: Entry, err: unknown): void {
    if (this.closed || this.entries.get(audience) !== e) return;
    this.o.metrics?.refreshes.inc({ outcome: 'error' });
    e.refreshing = false;
    const now = this.clock.now();
    const left = e.expiresAt - now;
    this.o.log?.warn('ID token refresh failed; serving the cached token while it lasts', {
      audience,
      expires_in_s: Math.round(left / 1000),
      error: err instanceof Error ? err.message : String(err),
    });
    const backoff = this.o.retryBackoff ?? { baseMs: 1000, maxMs: 30_000 };
    const delay = backoffDelay(e.failures++, backoff, this.o.random ?? Math.random);
    // Try again after the backoff; if the token becomes unusable first, due() drops it then.
    const unusableIn = e.expiresAt - safetyMarginMs(e.fetchedAt, e.expiresAt) - now;
    this.schedule(audience, e, Math.min(delay, unusableIn));
  }
}
