// One identity fetch = up to `attempts` metadata calls, all within `deadlineMs` (the wait for a
// p-queue slot included). Each call takes a slot, so no more than `maxConcurrent` identity calls are
// ever in flight; the backoff sleep between attempts holds no slot. Timeouts, network errors, 5xx
// and 429 are retried with exponential backoff + jitter while the deadline leaves room for another
// attempt; a 4xx (or an answer that is not the metadata server's) is reported at once. Each call's
// own timeouts are capped by what is left of the deadline, so a silent metadata server costs the
// caller `deadlineMs` at most (test/workers/token/blackhole.test.ts).
import PQueue from 'p-queue';
import { type BackoffOptions, backoffDelay, jwtExp } from '../../src/domain/token-policy.ts';
import type { MetadataClient } from './metadata-client.ts';
import { MetadataError } from './metadata-client.ts';
import type { TokenMetrics } from './metrics.ts';

export interface Minted {
  value: string;
  /** ms since the epoch, from the token's own `exp`. */
  expiresAt: number;
}

export interface FetcherOptions {
  client: MetadataClient;
  maxConcurrent: number;
  /** Metadata calls per identity fetch at most (default 3). */
  attempts?: number;
  /** Bound on one identity fetch, every attempt, sleep and queue wait included (default none). */
  deadlineMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
  /** Monotonic ms for the deadline (default performance.now). */
  monotonic?: () => number;
  metrics?: TokenMetrics;
}

/** An attempt given less than this is not worth making: the fetch gives up instead. */
const MIN_ATTEMPT_MS = 100;

export interface Fetcher {
  mint(audience: string): Promise<Minted>;
  close(): void;
}

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export function createFetcher(opts: FetcherOptions): Fetcher {
  const queue = new PQueue({ concurrency: Math.max(1, opts.maxConcurrent) });
  const attempts = Math.max(1, opts.attempts ?? 3);
  const deadlineMs = opts.deadlineMs ?? Number.POSITIVE_INFINITY;
  const backoff = opts.backoff ?? { baseMs: 100, maxMs: 1000 };
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  const clock = opts.monotonic ?? (() => performance.now());
  const m = opts.metrics;
  const closing = new AbortController();

  const slotError = (budgetMs: number) =>
    new MetadataError(
      `no identity call slot free within ${Math.round(budgetMs)} ms (all ${queue.pending} taken by calls to ${opts.client.origin})`,
      { kind: 'timeout' },
    );

  const once = async (audience: string, budgetMs: number): Promise<string> => {
    // The deadline bounds the wait for a slot; once running, the call's own timeouts (capped by
    // the rest of the budget) end it. (p-queue races a running task with `signal` too: hence a
    // signal that only the wait can trip.)
    const wait = new AbortController();
    const waitTimer = Number.isFinite(budgetMs)
      ? setTimeout(() => wait.abort(new Error('deadline')), Math.max(1, Math.ceil(budgetMs)))
      : undefined;
    const queued = clock();
    try {
      return await queue.add(
        async () => {
          clearTimeout(waitTimer);
          const end = m?.fetchDuration.startTimer();
          try {
            const left = budgetMs - (clock() - queued);
            // A slot that came free with (almost) nothing left of the budget: the wait used it up,
            // and a call of a few ms would only report a time-out that is not the server's.
            if (left < Math.min(MIN_ATTEMPT_MS, budgetMs / 2)) throw slotError(budgetMs);
            return await opts.client.identity(audience, { signal: closing.signal, budgetMs: left });
          } finally {
            end?.();
          }
        },
        { signal: AbortSignal.any([closing.signal, wait.signal]) },
      );
    } catch (err) {
      if (closing.signal.aborted || !wait.signal.aborted || err instanceof MetadataError) throw err;
      // The deadline passed while every slot was taken (by calls to a silent server, most likely).
      throw slotError(budgetMs);
    } finally {
      clearTimeout(waitTimer);
    }
  };

  const mint = async (audience: string): Promise<Minted> => {
    const started = clock();
    const left = () => deadlineMs - (clock() - started);
    for (let attempt = 0; ; attempt++) {
      try {
        const value = await once(audience, left());
        const exp = jwtExp(value);
        if (exp === null) {
          throw new MetadataError(`the identity token for ${audience} carries no readable exp`, {
            kind: 'invalid',
          });
        }
        if (exp * 1000 <= now()) {
          // Handing it out would only earn a 401 upstream; say what is wrong instead.
          throw new MetadataError(
            `the metadata server gave an ID token for ${audience} that expired at ${new Date(exp * 1000).toISOString()} (clock skew?)`,
            { kind: 'invalid' },
          );
        }
        m?.fetches.inc({ outcome: 'ok' });
        return { value, expiresAt: exp * 1000 };
      } catch (err) {
        const retryable = err instanceof MetadataError && err.retryable && !closing.signal.aborted;
        const delay = retryable ? backoffDelay(attempt, backoff, random) : 0;
        const again = retryable && attempt + 1 < attempts && left() - delay >= MIN_ATTEMPT_MS;
        m?.fetches.inc({ outcome: again ? 'retry' : 'error' });
        if (!again) throw retryable && attempt > 0 ? afterAttempts(err, attempt + 1, clock() - started) : err;
        await sleep(delay, closing.signal);
      }
    }
  };

  return {
    mint,
    close: () => {
      closing.abort(new Error('token room closing'));
      queue.clear();
    },
  };
}

/** The last attempt's error, saying how many were made and how long they took in all. */
function afterAttempts(err: MetadataError, n: number, ms: number): MetadataError {
  return new MetadataError(`${err.message} (${n} attempts in ${(ms / 1000).toFixed(1)} s)`, err.failure, {
    cause: err,
  });
}
