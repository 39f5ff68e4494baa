// Request timeouts for a load task without a timer per request: at tens of thousands of requests a
// second, arming and clearing a setTimeout for each one is a measurable share of the client's CPU
// (and garbage). Instead one sweep runs a few times per timeout period and expires whatever has
// been in flight too long, so a request times out between timeoutMs and timeoutMs × (1 + 1/SLICES).

const SLICES = 8;
const MIN_SWEEP_MS = 5;
const MAX_SWEEP_MS = 250;

export interface Deadlines<T> {
  /** start timing `item` (now = the caller's clock, performance.now) */
  add(item: T, now: number): void;
  delete(item: T): void;
  stop(): void;
}

export function deadlines<T>(timeoutMs: number, onExpire: (item: T) => void): Deadlines<T> {
  const since = new Map<T, number>();
  const every = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(timeoutMs / SLICES)));
  const sweep = setInterval(() => {
    const limit = performance.now() - timeoutMs;
    // Map iterates in insertion order: the oldest come first, so stop at the first still in time.
    for (const [item, at] of since) {
      if (at > limit) break;
      since.delete(item);
      onExpire(item);
    }
  }, every);
  // The senders keep the task alive; the sweep alone must not.
  sweep.unref();
  return {
    add: (item, now) => {
      since.delete(item); // re-added keys must move to the end (Map keeps a key's first position)
      since.set(item, now);
    },
    delete: (item) => {
      since.delete(item);
    },
    stop: () => clearInterval(sweep),
  };
}
