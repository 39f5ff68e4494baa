// One identity fetch = up to `attempts` metadata calls. Each call takes a p-queue slot, so no more
// than `maxConcurrent` identity calls are ever in flight; the backoff sleep between attempts holds
// no slot. Timeouts, network errors, 5xx and 429 are retried with exponential backoff + jitter; a
// 4xx (or an answer that is not the metadata server's) is reported at once.
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
  attempts?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
  metrics?: TokenMetrics;
}

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
  const attempts = Math.max(1, opts.attempts ?? 4);
  const backoff = opts.backoff ?? { baseMs: 200, maxMs: 5000 };
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  const m = opts.metrics;
  const closing = new AbortController();

  const once = (audience: string): Promise<string> =>
    queue.add(
      async () => {
        const end = m?.fetchDuration.startTimer();
        try {
          return await opts.client.identity(audience, closing.signal);
        } finally {
          end?.();
        }
      },
      { signal: closing.signal },
    );

  const mint = async (audience: string): Promise<Minted> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const value = await once(audience);
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
        const again =
          err instanceof MetadataError && err.retryable && attempt + 1 < attempts && !closing.signal.aborted;
        m?.fetches.inc({ outcome: again ? 'retry' : 'error' });
        if (!again) throw err;
        await sleep(backoffDelay(attempt, backoff, random), closing.signal);
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
